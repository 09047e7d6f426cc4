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

/// The real libcurl client against the loopback server, one fault at a time.
@Suite struct ChatClientFaultTests {
  /// Each test has its own transport: a shared connection cache would carry
  /// connections to servers of other tests (ports are reused), and the attempt
  /// counts asserted here must not include a retry over such a dead connection.
  ///
  /// 60 s an attempt unless a test times out on purpose: on a loaded machine (two cores, a full
  /// parallel run) a 5 s attempt against the loopback server has timed out and changed the error.
  func client(retries: Int = 3, timeout: Double = 60, env: [String: String] = [:]) -> ChatClient {
    var policy = RetryPolicy(retries: retries)
    policy.baseDelay = 0.01
    return ChatClient(transport: try! CurlTransport(), retry: policy, timeout: timeout, environment: env)
  }

  func request(_ server: LoopbackServer, model: String, stream: Bool = false, keyEnv: String? = nil) -> ChatRequest {
    var params = JSONObject()
    params["temperature"] = 0
    if stream { params["stream"] = true }
    let provider = Provider(
      name: "test", baseURL: server.baseURL, apiKeyEnv: keyEnv, headers: [.init(name: "X-Title", value: "pc")],
      model: nil)
    return ChatRequest(provider: provider, model: model, messages: [["role": "user", "content": "hi"]], params: params)
  }

  @Test func success() async throws {
    let server = try LoopbackServer { _, _ in .json(FakeOpenAI.completion("Hello")) }
    defer { server.stop() }
    let outcome = await client(env: ["TEST_KEY": "sk-secret"]).call(request(server, model: "ok", keyEnv: "TEST_KEY"))
    let exchange = try outcome.result.get()
    #expect(outcome.attempts == 1)
    #expect(Completion(response: exchange.decoded.body, latencyMS: 0).content == "Hello")
    let sent = try #require(server.requests.first)
    #expect(sent.headers["authorization"] == "Bearer sk-secret")
    #expect(sent.headers["content-type"] == "application/json")
    #expect(sent.headers["x-title"] == "pc")
    #expect(sent.json == ["model": "ok", "messages": [["role": "user", "content": "hi"]], "temperature": 0])
    // What a cassette may keep holds no secret.
    #expect(!exchange.requestHeaders.contains { $0.name.lowercased() == "authorization" })
  }

  @Test func missingKeyNamesTheVariable() async throws {
    let server = try LoopbackServer { _, _ in .json(FakeOpenAI.completion("x")) }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "ok", keyEnv: "MY_PROVIDER_KEY"))
    #expect(outcome.attempts == 0)
    #expect(
      throws: CallError(
        .missingKey,
        "MY_PROVIDER_KEY is not set: provider 'test' needs it for live calls (replaying cassettes needs no key)")
    ) {
      try outcome.result.get()
    }
    #expect(server.requests.isEmpty)
  }

  @Test func rateLimitedHonoursRetryAfter() async throws {
    let server = try LoopbackServer { _, attempt in
      attempt == 1
        ? .json(["error": ["message": "rate limited"]], status: 429, headers: [("Retry-After", "1")])
        : .json(FakeOpenAI.completion("after wait"))
    }
    defer { server.stop() }
    let clock = ContinuousClock()
    let start = clock.now
    let outcome = await client().call(request(server, model: "429"))
    #expect(clock.now - start >= .seconds(1))
    #expect(outcome.attempts == 2)
    #expect(try Completion(response: outcome.result.get().decoded.body, latencyMS: 0).content == "after wait")
  }

  @Test func serverErrorsThenSuccess() async throws {
    let server = try LoopbackServer { _, attempt in
      switch attempt {
      case 1: return .full(status: 500, body: "oops")
      case 2: return .full(status: 502, body: "<html>bad gateway</html>")
      default: return .json(FakeOpenAI.completion("third time"))
      }
    }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "5xx"))
    #expect(outcome.attempts == 3)
    #expect(throws: Never.self) { try outcome.result.get() }
  }

  @Test func alwaysFailingGivesUpAfterTheRetries() async throws {
    let server = try LoopbackServer { _, _ in .json(["error": ["message": "no capacity"]], status: 503) }
    defer { server.stop() }
    let outcome = await client(retries: 2).call(request(server, model: "503"))
    #expect(outcome.attempts == 3)
    #expect(server.attempts(model: "503") == 3)
    #expect(throws: CallError(.http, "HTTP 503: no capacity (gave up after 3 attempts)", retryable: true, status: 503))
    {
      try outcome.result.get()
    }
  }

  @Test func badRequestIsNotRetriedAndShowsTheServersMessage() async throws {
    let server = try LoopbackServer { _, _ in
      .json(["error": ["message": "qwen/nope is not a valid model ID", "code": 400]], status: 400)
    }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "400"))
    #expect(outcome.attempts == 1)
    #expect(throws: CallError(.http, "HTTP 400: qwen/nope is not a valid model ID (code 400)", status: 400)) {
      try outcome.result.get()
    }
  }

  @Test(arguments: [401, 402, 403, 404, 422])
  func otherClientErrorsAreNotRetried(status: Int) async throws {
    let server = try LoopbackServer { _, _ in .json(["error": ["message": .string("nope \(status)")]], status: status) }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "\(status)"))
    #expect(outcome.attempts == 1)
    #expect(throws: CallError.self) { try outcome.result.get() }
  }

  @Test func okWithANonTransientErrorObjectIsAnError() async throws {
    let server = try LoopbackServer { _, _ in .json(["error": ["message": "bad input", "code": 400]]) }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "200err"))
    #expect(outcome.attempts == 1)
    #expect(
      throws: CallError(.errorObject, "the server answered 200 with an error: bad input (code 400)", status: 200)
    ) {
      try outcome.result.get()
    }
  }

  @Test func streamIsAssembled() async throws {
    let server = try LoopbackServer { _, _ in .sse(FakeOpenAI.stream(["Hel", "lo", " world"])) }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "stream", stream: true))
    let exchange = try outcome.result.get()
    let c = Completion(response: exchange.decoded.body, latencyMS: 0)
    #expect(c.content == "Hello world")
    #expect(c.usage?.totalTokens == 10)
    #expect(c.finishReason == "stop")
    #expect(exchange.decoded.events?.count == 7)
    #expect(server.requests.first?.json?["stream_options"] == ["include_usage": true])
  }

  @Test func streamWithCommentsMultiLineDataAndCRLF() async throws {
    let first = FakeOpenAI.chunk(["role": "assistant", "content": "Hi"]).replacingOccurrences(of: "\n", with: "\r\n")
    let events = [
      ": OPENROUTER PROCESSING\r\n\r\n", first, ": keep-alive\n\n",
      // One JSON event split over two data lines (joined with "\n", still valid JSON).
      "data: {\"choices\":[{\"index\":0,\n", "data: \"delta\":{\"content\":\" there\"}}]}\n\n",
      FakeOpenAI.chunk([:], finish: "stop"), "data:[DONE]\n\n",
    ]
    let server = try LoopbackServer { _, _ in .sse(events, delay: 0.02) }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "quirks", stream: true))
    #expect(try Completion(response: outcome.result.get().decoded.body, latencyMS: 0).content == "Hi there")
  }

  @Test func midStreamErrorIsAnError() async throws {
    let server = try LoopbackServer { _, _ in
      .sse([FakeOpenAI.chunk(["content": "partial"]), "data: {\"error\":{\"message\":\"provider disconnected\"}}\n\n"])
    }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "midstream", stream: true))
    #expect(outcome.attempts == 1)
    #expect(throws: CallError(.errorObject, "the stream carried an error: provider disconnected", status: 200)) {
      try outcome.result.get()
    }
  }

  @Test func truncatedStreamIsRetried() async throws {
    let server = try LoopbackServer { _, attempt in
      attempt == 1 ? .sse([FakeOpenAI.chunk(["content": "cut"])]) : .sse(FakeOpenAI.stream(["whole"]))
    }
    defer { server.stop() }
    // A generous timeout: under a loaded machine a 5 s attempt can time out and add an attempt.
    let outcome = await client(timeout: 60).call(request(server, model: "truncated", stream: true))
    #expect(outcome.attempts == 2)
    #expect(try Completion(response: outcome.result.get().decoded.body, latencyMS: 0).content == "whole")
  }

  @Test func truncatedStreamThatNeverCompletes() async throws {
    let server = try LoopbackServer { _, _ in .sse([FakeOpenAI.chunk(["content": "cut"])]) }
    defer { server.stop() }
    let outcome = await client(retries: 1).call(request(server, model: "truncated-always", stream: true))
    #expect(outcome.attempts == 2)
    #expect(
      throws: CallError(
        .truncatedStream, "the stream ended without [DONE] after 1 event (gave up after 2 attempts)", retryable: true,
        status: 200)
    ) {
      try outcome.result.get()
    }
  }

  @Test func connectionResetIsRetried() async throws {
    let server = try LoopbackServer { _, attempt in attempt == 1 ? .reset : .json(FakeOpenAI.completion("fine")) }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "reset"))
    #expect(outcome.attempts == 2)
    #expect(throws: Never.self) { try outcome.result.get() }
  }

  @Test func tooSlowTimesOutAndIsRetried() async throws {
    let server = try LoopbackServer { _, _ in .delayed(1, .json(FakeOpenAI.completion("late"))) }
    defer { server.stop() }
    let outcome = await client(retries: 1, timeout: 0.2).call(request(server, model: "slow"))
    #expect(outcome.attempts == 2)
    #expect(throws: CallError(.transport, "timed out after 0.2 s (gave up after 2 attempts)", retryable: true)) {
      try outcome.result.get()
    }
  }

  @Test func bodyThatIsNotJSON() async throws {
    let server = try LoopbackServer { _, _ in .full(status: 200, body: "<html>gateway</html>") }
    defer { server.stop() }
    let outcome = await client().call(request(server, model: "html"))
    #expect(outcome.attempts == 1)
    #expect(
      throws: CallError(
        .badBody,
        "the response is not JSON (line 1, column 1: unexpected '<', expected a value); it starts \"<html>gateway</html>\"",
        status: 200)
    ) {
      try outcome.result.get()
    }
  }
}
