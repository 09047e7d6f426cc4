import Foundation
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

#if canImport(Glibc)
  import Glibc
#endif

/// A raw TCP client of a local port: the one owner of its socket, closed in `deinit`.
final class RawClient: Sendable {
  let fd: Int32

  init(port: Int) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      close(fd)
      throw POSIXError(.ECONNREFUSED)
    }
  }

  deinit { close(fd) }

  func send(_ text: String) { HTTPWire.send(fd, Array(text.utf8)) }
  func send(_ bytes: [UInt8]) { HTTPWire.send(fd, bytes) }

  /// What the server sends until it closes, or until `seconds` pass (then nil: still open).
  func readToClose(within seconds: Double) async -> String? {
    await offPool { self.blockingRead(seconds) }
  }

  private func blockingRead(_ seconds: Double) -> String? {
    var buffer: [UInt8] = []
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    while true {
      switch HTTPWire.receive(fd, &buffer, until: deadline) {
      case .received: continue
      case .closed: return String(decoding: buffer, as: UTF8.self)
      case .timedOut: return nil
      }
    }
  }
}

@Suite(.serialized) struct ServeLimitTests {
  func server(_ change: (inout HTTPServer.Limits) -> Void) throws -> HTTPServer {
    var limits = HTTPServer.Limits()
    change(&limits)
    return try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { _ in .json(.string("ok")) }
  }

  /// What a proxy and this server could read differently is refused, each with its status.
  @Test(arguments: [
    (
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\n", 400,
      "the request has more than one Content-Length"
    ),
    ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "send the body with a Content-Length"),
    ("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", 400, "the Content-Length is not a number"),
    ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "the Content-Length is not a number"),
    ("POST / HTTP/1.1\r\nno colon here\r\n\r\n", 400, "a header line has no ':'"),
    ("GET /\r\n\r\n", 400, "not an HTTP/1.x request"),
    ("GET / HTTP/2\r\n\r\n", 400, "not an HTTP/1.x request"),
  ])
  func aHeadReadTwoWaysIsRefused(_ head: String, _ status: Int, _ message: String) {
    #expect(
      HTTPWire.parseHead(ArraySlice(head.utf8)) == .failure(HTTPWire.BadRequestError(status: status, message: message)))
  }

  @Test func aHeadIsParsed() async throws {
    let head = try HTTPWire.parseHead(
      ArraySlice("POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length:  12 \r\nConnection: close\r\n\r\n".utf8)
    ).get()
    #expect(
      head
        == HTTPWire.Head(
          method: "POST", path: "/v1/chat", version: "HTTP/1.1",
          headers: ["host": "x", "content-length": "12", "connection": "close"], contentLength: 12, keepAlive: false))
  }

  /// Over the wire: the repeated length gets its 400, an oversized body its 413 before it is sent.
  @Test func refusedHeadsAreAnsweredAndClosed() async throws {
    let s = try server { $0.maxBody = 1000 }
    defer { s.stop() }
    let twice = try RawClient(port: s.port)
    twice.send("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc")
    let answer = try #require(await twice.readToClose(within: 5))
    #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer)")
    #expect(answer.contains("more than one Content-Length"))
    let big = try RawClient(port: s.port)
    big.send("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
    #expect(try #require(await big.readToClose(within: 5)).hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
  }

  /// Clients that never finish their headers are answered 408 and closed at the header timeout;
  /// clients that never start a request are closed at the idle timeout.
  @Test func slowAndIdleClientsAreClosed() async throws {
    let s = try server {
      $0.timeouts.header = 0.3
      $0.timeouts.idle = 0.6
    }
    defer { s.stop() }
    let slow = try (0..<40).map { _ in try RawClient(port: s.port) }
    for c in slow { c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n") }
    let idle = try (0..<40).map { _ in try RawClient(port: s.port) }
    for c in slow {
      let answer = try #require(await c.readToClose(within: 5), "a slow client is still open")
      #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
      #expect(answer.contains("the request's headers took longer than 0.3 s"))
    }
    for c in idle { #expect(await c.readToClose(within: 5) == "") }
    #expect(await eventually(5) { s.openConnections == 0 }, "\(s.openConnections) connections still open")
  }

  /// A body that stops halfway is answered 408 at the body timeout, and its bytes are given back.
  @Test func aStalledBodyTimesOutAndGivesItsBytesBack() async throws {
    let s = try server { $0.timeouts.body = 2 }
    defer { s.stop() }
    let c = try RawClient(port: s.port)
    c.send("POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "x", count: 50000))
    #expect(await eventually(5) { s.bufferedBodyBytes == 100_000 })
    let answer = try #require(await c.readToClose(within: 5))
    #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
    #expect(s.bufferedBodyBytes == 0)
  }

  /// Many clients each partway into a large body: the bytes held across them stay within the
  /// budget (the clients past it get 503 before they send their bodies), and are given back.
  @Test func unfinishedBodiesStayWithinTheBudget() async throws {
    let s = try server {
      $0.maxBody = 4 << 20
      $0.bufferedBodies = 10 << 20
    }
    defer { s.stop() }
    let clients = try (0..<8).map { _ in try RawClient(port: s.port) }
    for c in clients { c.send("POST / HTTP/1.1\r\nContent-Length: \(3 << 20)\r\n\r\n") }
    // Three bodies of 3 MiB fit in 10 MiB; the other five are refused before their bodies come.
    var admitted: [RawClient] = []
    for c in clients {
      if let answer = await c.readToClose(within: 1) {
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(answer)")
        #expect(answer.contains("the server holds as many request bodies as it may"))
      } else {
        admitted.append(c)
      }
    }
    #expect(admitted.count == 3)
    for c in admitted { c.send([UInt8](repeating: 120, count: 1 << 20)) }
    #expect(s.bufferedBodyBytes == 3 * (3 << 20))
  }

  @Test func bytesOfClientsThatLeaveComeBack() async throws {
    let s = try server { $0.bufferedBodies = 10 << 20 }
    defer { s.stop() }
    do {
      let clients = try (0..<3).map { _ in try RawClient(port: s.port) }
      for c in clients { c.send("POST / HTTP/1.1\r\nContent-Length: \(3 << 20)\r\n\r\nabc") }
      #expect(await eventually(5) { s.bufferedBodyBytes == 9 << 20 })
    }
    #expect(await eventually(5) { s.bufferedBodyBytes == 0 && s.openConnections == 0 })
  }

  /// Past the connection cap a client is answered 503 with Retry-After and closed; the ones
  /// admitted are served.
  @Test func pastTheConnectionCapAClientGets503() async throws {
    let s = try server { $0.maxConnections = 4 }
    defer { s.stop() }
    let held = try (0..<4).map { _ in try RawClient(port: s.port) }
    #expect(await eventually(5) { s.openConnections == 4 })
    let late = try RawClient(port: s.port)
    let answer = try #require(await late.readToClose(within: 5))
    #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(answer)")
    #expect(answer.contains("Retry-After: 1\r\n"))
    #expect(answer.contains("the server has 4 connections open, its limit"))
    held[0].send("GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n")
    #expect(try #require(await held[0].readToClose(within: 5)).hasPrefix("HTTP/1.1 200 OK\r\n"))
  }

  /// A client that stops reading a large answer is dropped at the send timeout.
  @Test func aClientThatStopsReadingIsDropped() async throws {
    var limits = HTTPServer.Limits()
    limits.timeouts.send = 0.3
    let s = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { _ in
      HTTPServer.Response(status: 200, body: [UInt8](repeating: 65, count: 64 << 20))
    }
    defer { s.stop() }
    let c = try RawClient(port: s.port)
    c.send("GET / HTTP/1.1\r\n\r\n")
    #expect(await eventually(10) { s.openConnections == 0 }, "the connection is held by a client that reads nothing")
    withExtendedLifetime(c) {}
  }
}

/// `serve` itself, as a user starts it.
@Suite(.serialized) struct ServeBinaryTests {
  /// A `serve` started through `sh` with `limit` file descriptors; its log (what it wrote) in `text`.
  final class Started {
    let process: Background

    init(in dir: URL, fileLimit: Int, environment: [String: String] = [:]) throws {
      process = try Background(
        ["/bin/sh", "-c", "ulimit -n \(fileLimit) && exec \"$0\" serve --port 0", BinaryRunner.binary.path], in: dir,
        environment: environment, unsetting: ["CI", "GITHUB_ACTIONS"])
    }

    var text: String { process.output }

    /// The port from the "serving … on http://127.0.0.1:PORT/v1" line.
    func port() async -> Int? {
      guard await eventually(10, { text.contains("/v1 (mode") }) else { return nil }
      let after = text.components(separatedBy: "http://127.0.0.1:").dropFirst().first ?? ""
      return Int(after.prefix { $0.isNumber })
    }

    /// User and system CPU time so far, in clock ticks (1/100 s).
    var cpuTicks: Int {
      let stat = (try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8)) ?? ""
      // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
      let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
      guard fields.count > 13 else { return -1 }
      return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }
  }

  func recorded() async throws -> Project {
    let p = try Project(suites: ["s": "tests:\n  - {name: plain, prompt: hi}\n"], handler: echo)
    _ = await p.run(["--mode", "record"])
    return p
  }

  /// Out of file descriptors, `serve` waits instead of spinning, says so once, and serves again
  /// once connections close.
  @Test func outOfFileDescriptorsItBacksOffAndRecovers() async throws {
    let p = try await recorded()
    let serve = try Started(in: p.dir.url, fileLimit: 40)
    let port = try #require(await serve.port(), "\(serve.text)")
    var clients: [RawClient] = []
    for _ in 0..<80 { clients.append(try RawClient(port: port)) }
    // The accept queue holds the ones past the limit; accept fails for them.
    #expect(await eventually(10) { serve.text.contains("cannot accept a connection") }, "\(serve.text)")
    let before = serve.cpuTicks
    try await Task.sleep(for: .seconds(2))
    let spent = serve.cpuTicks - before
    #expect(spent < 60, "\(spent) ticks of CPU in 2 s while out of descriptors")
    #expect(serve.text.components(separatedBy: "cannot accept a connection").count == 2, "\(serve.text)")
    clients.removeAll()
    // Once they close, it serves again.
    let again = try RawClient(port: port)
    again.send("GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n")
    #expect(try #require(await again.readToClose(within: 10), "\(serve.text)").hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(serve.process.isRunning)
  }

  /// A path with an escape sequence and a newline is logged escaped: one line, nothing the
  /// terminal would act on.
  @Test func aHostilePathIsLoggedEscaped() async throws {
    let p = try await recorded()
    let serve = try Started(in: p.dir.url, fileLimit: 1024)
    let port = try #require(await serve.port(), "\(serve.text)")
    let c = try RawClient(port: port)
    c.send("GET /v1/\u{1B}[2J\u{1B}]0;owned\u{07}x HTTP/1.1\r\nConnection: close\r\n\r\n")
    _ = await c.readToClose(within: 5)
    #expect(await eventually(5) { serve.text.contains("GET /v1/") }, "\(serve.text)")
    #expect(!serve.text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "\(serve.text.debugDescription)")
    #expect(serve.text.contains(#"GET /v1/\u{1b}[2J\u{1b}]0;owned\u{7}x 404"#), "\(serve.text)")
  }
}
