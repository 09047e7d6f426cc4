import Foundation
import PromptCheckCore
import PromptCheckExecute
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A small HTTP/1.1 server for `promptcheck serve`: one accept thread, a thread per
/// connection, keep-alive, `Content-Length` bodies with a size limit. The listener and every
/// connection are file descriptors owned here and closed when the server stops.
package final class HTTPServer: Sendable {
  package struct Request: Sendable {
    package var method: String
    package var path: String
    package var headers: [String: String]
    package var body: [UInt8]
  }

  package struct Response: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(String, String)] = [], body: [UInt8]) {
      self.status = status
      self.headers = headers
      self.body = body
    }

    package static func json(_ value: JSON, status: Int = 200) -> Response {
      Response(status: status, headers: [("Content-Type", "application/json")], body: Array(value.serialized().utf8))
    }

    /// An answer passed on while it is produced: sent chunked, piece by piece.
    package var relay: Relay?

    package static func relayed(_ relay: Relay) -> Response {
      var r = Response(status: 200, body: [])
      r.relay = relay
      return r
    }
  }

  /// An answer produced on another thread, sent as it comes: a head, pieces, an end — or,
  /// when nothing was started, one whole response instead.
  package final class Relay: Sendable {
    package enum Part: Sendable {
      case head(status: Int, headers: [(String, String)])
      case piece([UInt8])
      /// The end of a started answer.
      case end
      /// The whole answer, when none was started (an error, or an answer that was not streamed).
      case whole(Response)
    }

    private let parts = Mutex<[Part]>([])
    private let ready = DispatchSemaphore(value: 0)

    package init() {}

    package func send(_ part: Part) {
      parts.withLock { $0.append(part) }
      ready.signal()
    }

    /// The next part, waiting for it.
    func next() -> Part {
      ready.wait()
      return parts.withLock { $0.removeFirst() }
    }
  }

  package typealias StartError = TCPListener.StartError

  /// What one server holds at most (README "Limits and safety").
  package struct Limits: Sendable {
    /// The largest request body (413 past it).
    package var maxBody = 4 << 20
    /// Connections open at once; one more is answered 503 and closed.
    package var maxConnections = 128
    /// Bytes of request bodies held at once across connections; a body that does not fit gets 503.
    package var bufferedBodies = 64 << 20
    package var timeouts = HTTPWire.Timeouts()
    package init() {}
  }

  private let listener: TCPListener
  private let limits: Limits
  private let budget: BodyBudget
  private let handler: @Sendable (Request) -> Response

  package var port: Int { listener.port }
  /// Connections open now.
  package var openConnections: Int { listener.openCount }
  /// Bytes of request bodies held now.
  package var bufferedBodyBytes: Int { budget.inUse }

  /// Listens on `host:port` (port 0: any free port). `log` hears of trouble the server has
  /// with its own resources (out of file descriptors), once per episode.
  package init(
    host: String, port: Int, limits: Limits = Limits(), log: @escaping @Sendable (String) -> Void = { _ in },
    handler: @escaping @Sendable (Request) -> Response
  ) throws(StartError) {
    self.handler = handler
    self.limits = limits
    budget = BodyBudget(limit: limits.bufferedBodies)
    listener = try TCPListener(host: host, port: port)
    let busy = Self.wire(
      Response.json(
        Self.error(
          "the server has \(limits.maxConnections) connections open, its limit; try again shortly", type: "server_busy"),
        status: 503),
      keepAlive: false, extraHeaders: [("Retry-After", "1")])
    listener.start(
      maxConnections: limits.maxConnections,
      refuse: { fd in
        // Without reading the request: the answer is short, and the client sees it before the close.
        HTTPWire.limitSends(fd, seconds: 1)
        HTTPWire.send(fd, busy)
      }, problem: { log("warning: \($0)\n") }
    ) { [self] fd in serve(fd) }
  }

  /// Stops accepting and ends every open connection.
  package func stop() { listener.stop() }

  private func serve(_ fd: Int32) {
    HTTPWire.limitSends(fd, seconds: limits.timeouts.send)
    var buffer: [UInt8] = []
    while true {
      switch HTTPWire.readRequest(fd, &buffer, maxBody: limits.maxBody, timeouts: limits.timeouts, budget: budget) {
      case .closed:
        return
      case .bad(let status, let message):
        _ = send(
          fd, Response.json(Self.error(message, type: "invalid_request_error"), status: status), keepAlive: false)
        return
      case .request(let method, let path, let headers, let body, let keepAlive):
        let response = handler(Request(method: method, path: path, headers: headers, body: body))
        budget.release(body.count)
        if let relay = response.relay {
          guard pass(relay, to: fd, keepAlive: keepAlive), keepAlive else { return }
          continue
        }
        guard send(fd, response, keepAlive: keepAlive), keepAlive else { return }
      }
    }
  }

  /// An OpenAI-shaped error body.
  package static func error(_ message: String, type: String, code: String? = nil) -> JSON {
    var e = JSONObject([("message", .string(message)), ("type", .string(type))])
    e["code"] = code.map { .string($0) } ?? .null
    return .object(JSONObject([("error", .object(e))]))
  }

  /// Sends a relayed answer as it comes, with chunked framing; false when the connection must close.
  private func pass(_ relay: Relay, to fd: Int32, keepAlive: Bool) -> Bool {
    var open = true
    while true {
      switch relay.next() {
      case .whole(let response):
        return send(fd, response, keepAlive: keepAlive) && open
      case .head(let status, let headers):
        let head = Self.head(status, headers, framing: "Transfer-Encoding: chunked", keepAlive: keepAlive)
        open = open && HTTPWire.send(fd, Array(head.utf8))
      case .piece(let bytes):
        guard !bytes.isEmpty else { continue }
        // A client gone away still lets the answer finish (it is recorded all the same).
        open = open && HTTPWire.send(fd, Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [13, 10])
      case .end:
        return open && HTTPWire.send(fd, Array("0\r\n\r\n".utf8))
      }
    }
  }

  /// The status line and headers, with how the body is framed and whether the connection stays open.
  static func head(_ status: Int, _ headers: [(String, String)], framing: String, keepAlive: Bool) -> String {
    var head = "HTTP/1.1 \(status) \(HTTPWire.reason(status))\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    return head + "\(framing)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
  }

  private func send(_ fd: Int32, _ r: Response, keepAlive: Bool) -> Bool {
    HTTPWire.send(fd, Self.wire(r, keepAlive: keepAlive))
  }

  /// A whole response as it goes on the wire.
  static func wire(_ r: Response, keepAlive: Bool, extraHeaders: [(String, String)] = []) -> [UInt8] {
    let head = Self.head(
      r.status, r.headers + extraHeaders, framing: "Content-Length: \(r.body.count)", keepAlive: keepAlive)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(head.utf8.count + r.body.count)
    bytes += head.utf8
    bytes += r.body
    return bytes
  }
}
