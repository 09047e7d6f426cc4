import Foundation
import LoopbackServer
import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

@Suite struct CurlTransportTests {
  @Test func postsAndReadsAResponse() async throws {
    let server = try LoopbackServer { request, _ in
      .full(
        status: 200, headers: [("X-Echo", request.headers["x-test"] ?? "")], body: "got \(request.body.count) bytes")
    }
    defer { server.stop() }
    let transport = try CurlTransport()
    let body = Array(String(repeating: "x", count: 5000).utf8)
    let response = try await transport.send(
      HTTPRequest(
        url: server.baseURL + "/chat/completions", headers: [("X-Test", "hi"), ("Content-Type", "application/json")],
        body: body, timeout: 10))
    #expect(response.status == 200)
    #expect(String(decoding: response.body, as: UTF8.self) == "got 5000 bytes")
    #expect(response.header("x-echo") == "hi")
    #expect(server.requests.first?.path == "/v1/chat/completions")
    #expect(server.requests.first?.method == "POST")
    // No Expect: 100-continue round trip.
    #expect(server.requests.first?.headers["expect"] == nil)
  }

  @Test func reusesConnections() async throws {
    let server = try LoopbackServer { _, _ in .full(status: 200, body: "ok") }
    defer { server.stop() }
    let transport = try CurlTransport()
    for _ in 0..<5 {
      _ = try await transport.send(HTTPRequest(url: server.baseURL + "/x", body: [1], timeout: 10))
    }
    #expect(server.requests.count == 5)
    #expect(server.connectionCount == 1)
  }

  @Test func runsManyTransfersConcurrently() async throws {
    // Each answer is held for a while, so concurrent transfers overlap on the server.
    let server = try LoopbackServer { _, _ in .delayed(2, .full(status: 200, body: "ok")) }
    defer { server.stop() }
    let transport = try CurlTransport()
    try await withThrowingTaskGroup(of: Int.self) { group in
      for _ in 0..<20 {
        group.addTask {
          try await transport.send(HTTPRequest(url: server.baseURL + "/x", body: [1], timeout: 30)).status
        }
      }
      for try await status in group { #expect(status == 200) }
    }
    // The transfers overlapped: one thread drives them all, none waits for another
    // (serially this would be 1; a loaded machine may start a few late, hence not exactly 20).
    #expect(server.maxConcurrentRequests >= 15)
  }

  @Test func connectionRefusedIsARetryableConnectionError() async throws {
    let server = try LoopbackServer { _, _ in .full(status: 200, body: "") }
    let port = server.port
    server.stop()
    let transport = try CurlTransport()
    await #expect(throws: TransportError.self) {
      _ = try await transport.send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/x", body: [1], timeout: 5))
    }
    do {
      _ = try await transport.send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/x", body: [1], timeout: 5))
    } catch {
      guard case .connection = error else { Issue.record("expected a connection error, got \(error)"); return }
      #expect(error.isRetryable)
    }
  }

  @Test func slowServerTimesOut() async throws {
    let server = try LoopbackServer { _, _ in .delayed(2, .full(status: 200, body: "late")) }
    defer { server.stop() }
    let transport = try CurlTransport()
    do {
      _ = try await transport.send(HTTPRequest(url: server.baseURL + "/x", body: [1], timeout: 0.3))
      Issue.record("expected a timeout")
    } catch {
      #expect(error == .timeout(seconds: 0.3))
      #expect(error.description == "timed out after 0.3 s")
    }
  }

  @Test func cancellationStopsTheTransfer() async throws {
    let server = try LoopbackServer { _, _ in .delayed(120, .full(status: 200, body: "late")) }
    defer { server.stop() }
    let transport = try CurlTransport()
    let task = Task { try await transport.send(HTTPRequest(url: server.baseURL + "/x", body: [1], timeout: 240)) }
    try await Task.sleep(for: .milliseconds(200))
    let clock = ContinuousClock()
    let start = clock.now
    task.cancel()
    let result = await task.result
    // A bound far from both sides: uncancelled, the answer would take 120 s; a loaded CI machine
    // once took 5.6 s to schedule the cancellation.
    #expect(clock.now - start < .seconds(30))
    guard case .failure(let error) = result, let e = error as? TransportError else {
      Issue.record("expected cancellation")
      return
    }
    #expect(e == .cancelled)
  }

  @Test func aCancellationAfterCompletionLeavesNothingBehind() async throws {
    let server = try LoopbackServer { _, _ in .full(status: 200, body: "ok") }
    defer { server.stop() }
    let transport = try CurlTransport()
    let task = Task { try await transport.send(HTTPRequest(url: server.baseURL + "/x", body: [1], timeout: 10)) }
    _ = try await task.value
    task.cancel()
    #expect(transport.outstandingRequests == 0)
    // Cancelled before it is sent: answered at once, nothing left either.
    let early = Task {
      withUnsafeCurrentTask { $0?.cancel() }
      return try await transport.send(HTTPRequest(url: server.baseURL + "/x", body: [1], timeout: 10))
    }
    guard case .failure(let e as TransportError) = await early.result else {
      Issue.record("expected a cancellation")
      return
    }
    #expect(e == .cancelled)
    #expect(transport.outstandingRequests == 0)
  }

  @Test func aRejectedOptionIsAnErrorOfThatRequest() async throws {
    // curl refuses option strings over 8,000,000 bytes at setopt time.
    let transport = try CurlTransport()
    let url = "http://127.0.0.1:9/" + String(repeating: "a", count: 8_100_000)
    do {
      _ = try await transport.send(HTTPRequest(url: url, body: [1], timeout: 10))
      Issue.record("expected an error")
    } catch {
      #expect(
        error.description.hasPrefix("curl rejected the option URL (http://127.0.0.1:9/aaa"),
        "\(error.description.prefix(200))")
      #expect(!error.isRetryable)
    }
    #expect(transport.outstandingRequests == 0)
  }
}
