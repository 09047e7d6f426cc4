import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A listening TCP socket on an IPv4 address: one accept thread, a thread per connection.
/// The listener and every open connection are owned here; `stop` ends them all. Shared by
/// `promptcheck serve` and the tests' loopback server.
package final class TCPListener: Sendable {
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
  private let state = Mutex(State())

  private struct State: ~Copyable {
    var open: Set<Int32> = []
    var connections = 0
    var stopped = false
  }

  package init(host: String = "127.0.0.1", port: Int = 0, backlog: Int32 = 512) throws(StartError) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw .cannotListen("cannot open a socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
    guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
      close(fd)
      throw .cannotListen("'\(host)' is not an IPv4 address")
    }
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, backlog) == 0 else {
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
  }

  /// Connections accepted so far.
  package var connectionCount: Int { state.withLock { $0.connections } }

  /// Accepts on a thread of its own; each connection is served on a new thread, then closed.
  package func start(_ serve: @escaping @Sendable (Int32) -> Void) {
    let thread = Thread { [self] in
      while true {
        let client = accept(listener, nil, nil)
        if client < 0 {
          if state.withLock({ $0.stopped }) {
            // Closed by this thread: closing it in stop() could let it accept on a reused fd number.
            close(listener)
            return
          }
          continue
        }
        let stopped = state.withLock { s -> Bool in
          if s.stopped { return true }
          s.open.insert(client)
          s.connections += 1
          return false
        }
        if stopped {
          close(client)
          close(listener)
          return
        }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        Thread { [self] in
          serve(client)
          // Under the lock: an fd closed (and reused elsewhere) is never shut down by stop() by mistake.
          state.withLock { s in
            s.open.remove(client)
            close(client)
          }
        }.start()
      }
    }
    thread.name = "promptcheck.accept"
    thread.start()
  }

  /// Stops accepting and ends every open connection (kept-alive ones included).
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
}

/// HTTP/1.1 on a connected socket: requests with `Content-Length` bodies, whole writes.
package enum HTTPWire {
  package enum Read {
    case request(method: String, path: String, headers: [String: String], body: [UInt8], keepAlive: Bool)
    /// A request to refuse with this status and message.
    case bad(Int, String)
    case closed
  }

  package static func readRequest(_ fd: Int32, _ buffer: inout [UInt8], maxBody: Int = .max) -> Read {
    let separator: [UInt8] = [13, 10, 13, 10]
    var found = buffer.firstRange(of: separator)
    while found == nil {
      if buffer.count > 64 * 1024 { return .bad(431, "the request's headers are larger than 64 KiB") }
      guard receive(fd, &buffer) else { return .closed }
      found = buffer.firstRange(of: separator)
    }
    guard let headerEnd = found?.upperBound else { return .closed }
    // The head, line by line, in bytes (no Foundation on the hot path).
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = 0
    var i = 0
    while i + 1 < headerEnd {
      if buffer[i] == 13 && buffer[i + 1] == 10 {
        lines.append(buffer[lineStart..<i])
        i += 2
        lineStart = i
      } else {
        i += 1
      }
    }
    guard let first = lines.first else { return .bad(400, "not an HTTP/1.x request") }
    let requestLine = first.split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
    guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
      return .bad(400, "not an HTTP/1.x request")
    }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() where !line.isEmpty {
      guard let colon = line.firstIndex(of: 58) else { return .bad(400, "a header line has no ':'") }
      var value = line[(colon + 1)...]
      while let f = value.first, f == 32 || f == 9 { value = value.dropFirst() }
      while let l = value.last, l == 32 || l == 9 { value = value.dropLast() }
      headers[String(decoding: line[..<colon], as: UTF8.self).lowercased()] = String(decoding: value, as: UTF8.self)
    }
    if headers["transfer-encoding"] != nil { return .bad(411, "send the body with a Content-Length") }
    guard let length = Int(headers["content-length"] ?? "0"), length >= 0 else {
      return .bad(400, "the Content-Length is not a number")
    }
    if length > maxBody { return .bad(413, "the request body is \(length) bytes; the limit is \(maxBody)") }
    while buffer.count < headerEnd + length {
      guard receive(fd, &buffer) else { return .closed }
    }
    let body = Array(buffer[headerEnd..<(headerEnd + length)])
    buffer.removeFirst(headerEnd + length)
    let keepAlive = headers["connection"]?.lowercased() != "close" && requestLine[2] == "HTTP/1.1"
    return .request(
      method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body, keepAlive: keepAlive)
  }

  static func receive(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
    // Into uninitialised scratch space: no 64 KiB buffer zeroed for every read.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 * 1024) { chunk in
      let n = recv(fd, chunk.baseAddress, chunk.count, 0)
      guard n > 0 else { return false }
      buffer.append(contentsOf: chunk[0..<n])
      return true
    }
  }

  /// Writes all of `bytes`; false when the peer has gone.
  @discardableResult
  package static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return false }
      offset += n
    }
    return true
  }

  package static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 411: return "Length Required"
    case 413: return "Content Too Large"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    default: return "Status"
    }
  }
}
