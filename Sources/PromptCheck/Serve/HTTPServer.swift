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

  package enum StartError: Error, CustomStringConvertible {
    case cannotListen(String)
    package var description: String {
      switch self {
      case .cannotListen(let why): return why
      }
    }
  }

  package let port: Int
  private let listener: Int32
  private let maxBody: Int
  private let handler: @Sendable (Request) -> Response
  private let state = Mutex(State())

  private struct State: ~Copyable {
    var open: Set<Int32> = []
    var stopped = false
  }

  /// Listens on `host:port` (port 0: any free port).
  package init(
    host: String, port: Int, maxBody: Int, handler: @escaping @Sendable (Request) -> Response
  ) throws(StartError) {
    self.handler = handler
    self.maxBody = maxBody
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw .cannotListen("cannot open a socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
      close(fd)
      throw .cannotListen("'\(host)' is not an IPv4 address")
    }
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 512) == 0 else {
      let why = String(cString: strerror(errno))
      close(fd)
      throw .cannotListen("cannot listen on \(host):\(port): \(why)")
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    self.port = Int(UInt16(bigEndian: addr.sin_port))
    listener = fd
    let thread = Thread { [self] in acceptLoop() }
    thread.name = "promptcheck.serve.accept"
    thread.start()
  }

  /// Stops accepting and ends every open connection.
  package func stop() {
    let first = state.withLock { s in
      defer { s.stopped = true }
      return !s.stopped
    }
    guard first else { return }
    shutdown(listener, Int32(SHUT_RDWR))
    state.withLock { s in for fd in s.open { shutdown(fd, Int32(SHUT_RDWR)) } }
  }

  deinit { stop() }

  private func acceptLoop() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if state.withLock({ $0.stopped }) {
          close(listener)
          return
        }
        continue
      }
      let stopped = state.withLock { s -> Bool in
        if s.stopped { return true }
        s.open.insert(client)
        return false
      }
      if stopped {
        close(client)
        return
      }
      var one: Int32 = 1
      setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      let thread = Thread { [self] in serve(client) }
      thread.start()
    }
  }

  private func serve(_ fd: Int32) {
    defer {
      state.withLock { _ = $0.open.remove(fd) }
      close(fd)
    }
    var buffer: [UInt8] = []
    while true {
      switch readRequest(fd, &buffer) {
      case .closed:
        return
      case .bad(let status, let message):
        _ = send(
          fd, Response.json(Self.error(message, type: "invalid_request_error"), status: status), keepAlive: false)
        return
      case .request(let request, let keepAlive):
        let response = handler(request)
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

  private enum Read {
    case request(Request, keepAlive: Bool)
    case bad(Int, String)
    case closed
  }

  private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Read {
    let separator: [UInt8] = [13, 10, 13, 10]
    var found = buffer.firstRange(of: separator)
    while found == nil {
      if buffer.count > 64 * 1024 { return .bad(431, "the request's headers are larger than 64 KiB") }
      guard receive(fd, &buffer) else { return .closed }
      found = buffer.firstRange(of: separator)
    }
    guard let headerEnd = found?.upperBound else { return .closed }
    let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let requestLine = lines.removeFirst().split(separator: " ")
    guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
      return .bad(400, "not an HTTP/1.x request")
    }
    var headers: [String: String] = [:]
    for line in lines where !line.isEmpty {
      guard let colon = line.firstIndex(of: ":") else { return .bad(400, "a header line has no ':'") }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    if headers["transfer-encoding"] != nil { return .bad(411, "send the body with a Content-Length") }
    guard let length = Int(headers["content-length"] ?? "0"), length >= 0 else {
      return .bad(400, "the Content-Length is not a number")
    }
    if length > maxBody {
      return .bad(413, "the request body is \(length) bytes; the limit is \(maxBody)")
    }
    while buffer.count < headerEnd + length {
      guard receive(fd, &buffer) else { return .closed }
    }
    let body = Array(buffer[headerEnd..<(headerEnd + length)])
    buffer.removeFirst(headerEnd + length)
    let keepAlive = (headers["connection"]?.lowercased() != "close") && requestLine[2] == "HTTP/1.1"
    return .request(
      Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body),
      keepAlive: keepAlive)
  }

  private func receive(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return false }
    buffer.append(contentsOf: chunk[0..<n])
    return true
  }

  private func send(_ fd: Int32, _ r: Response, keepAlive: Bool) -> Bool {
    var head = "HTTP/1.1 \(r.status) \(Self.reason(r.status))\r\n"
    for (name, value) in r.headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(r.body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
    let bytes = Array(head.utf8) + r.body
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return false }
      offset += n
    }
    return true
  }

  static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 411: return "Length Required"
    case 413: return "Content Too Large"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 502: return "Bad Gateway"
    default: return "Status"
    }
  }
}
