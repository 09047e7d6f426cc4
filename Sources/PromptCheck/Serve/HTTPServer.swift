import Foundation
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
  }

  package typealias StartError = TCPListener.StartError

  private let listener: TCPListener
  private let maxBody: Int
  private let handler: @Sendable (Request) -> Response

  package var port: Int { listener.port }

  /// Listens on `host:port` (port 0: any free port).
  package init(
    host: String, port: Int, maxBody: Int, handler: @escaping @Sendable (Request) -> Response
  ) throws(StartError) {
    self.handler = handler
    self.maxBody = maxBody
    listener = try TCPListener(host: host, port: port)
    listener.start { [self] fd in serve(fd) }
  }

  /// Stops accepting and ends every open connection.
  package func stop() { listener.stop() }

  private func serve(_ fd: Int32) {
    var buffer: [UInt8] = []
    while true {
      switch HTTPWire.readRequest(fd, &buffer, maxBody: maxBody) {
      case .closed:
        return
      case .bad(let status, let message):
        _ = send(
          fd, Response.json(Self.error(message, type: "invalid_request_error"), status: status), keepAlive: false)
        return
      case .request(let method, let path, let headers, let body, let keepAlive):
        let response = handler(Request(method: method, path: path, headers: headers, body: body))
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

  private func send(_ fd: Int32, _ r: Response, keepAlive: Bool) -> Bool {
    var head = "HTTP/1.1 \(r.status) \(HTTPWire.reason(r.status))\r\n"
    for (name, value) in r.headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(r.body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
    return HTTPWire.send(fd, Array(head.utf8) + r.body)
  }
}
