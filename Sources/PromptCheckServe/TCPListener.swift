import Foundation
import PromptCheckCore
import PromptCheckExecute
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

  /// Connections open now.
  package var openCount: Int { state.withLock { $0.open.count } }

  /// Accepts on a thread of its own; each connection is served on a new thread, then closed.
  /// Past `maxConnections` open at once, a new connection is handed to `refuse` (on the accept
  /// thread: it writes a short answer) and closed. When `accept` fails (out of file
  /// descriptors: EMFILE, ENFILE), the thread waits 100 ms before it tries again, and `problem`
  /// hears of it once until an accept succeeds again.
  package func start(
    maxConnections: Int = .max, refuse: @escaping @Sendable (Int32) -> Void = { _ in },
    problem: @escaping @Sendable (String) -> Void = { _ in }, _ serve: @escaping @Sendable (Int32) -> Void
  ) {
    let thread = Thread { [self] in
      var failing = false
      while true {
        let client = accept(listener, nil, nil)
        if client < 0 {
          let code = errno
          if state.withLock({ $0.stopped }) {
            // Closed by this thread: closing it in stop() could let it accept on a reused fd number.
            close(listener)
            return
          }
          if code == EINTR || code == ECONNABORTED { continue }
          if !failing {
            problem("cannot accept a connection: \(String(cString: strerror(code))); waiting for connections to close")
            failing = true
          }
          usleep(100_000)
          continue
        }
        failing = false
        enum Admission { case stopped, full, admitted }
        let admission = state.withLock { s -> Admission in
          if s.stopped { return .stopped }
          if s.open.count >= maxConnections { return .full }
          s.open.insert(client)
          s.connections += 1
          return .admitted
        }
        if admission == .full {
          refuse(client)
          close(client)
          continue
        }
        if admission == .stopped {
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

  /// How long a client may take (README "Limits and safety"): to start a request (an idle
  /// kept-alive connection), to finish its headers once started, to send its body.
  package struct Timeouts: Sendable {
    package var idle: Double = 60
    package var header: Double = 10
    package var body: Double = 30
    /// A client that takes no bytes of an answer for this long is dropped.
    package var send: Double = 30
    package init() {}
  }

  /// Sends on `fd` give up after `seconds` without progress (`SO_SNDTIMEO`): a client that
  /// stops reading cannot hold a thread.
  package static func limitSends(_ fd: Int32, seconds: Double) {
    var t = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
  }

  /// Reads one request. `budget` is the bytes of bodies every connection may hold at once: a
  /// body that does not fit is refused with 503 before it is read (the caller gives the bytes
  /// back when it is done with the body).
  package static func readRequest(
    _ fd: Int32, _ buffer: inout [UInt8], maxBody: Int = .max, timeouts: Timeouts = Timeouts(),
    budget: BodyBudget? = nil
  ) -> Read {
    let separator: [UInt8] = [13, 10, 13, 10]
    let clock = ContinuousClock()
    var deadline = clock.now.advanced(by: .milliseconds(Int(timeouts.idle * 1000)))
    if !buffer.isEmpty { deadline = clock.now.advanced(by: .milliseconds(Int(timeouts.header * 1000))) }
    var found = buffer.firstRange(of: separator)
    while found == nil {
      if buffer.count > 64 * 1024 { return .bad(431, "the request's headers are larger than 64 KiB") }
      let started = !buffer.isEmpty
      switch receive(fd, &buffer, until: deadline) {
      case .closed: return .closed
      case .timedOut:
        return started
          ? .bad(408, "the request's headers took longer than \(NumberText.format(timeouts.header)) s") : .closed
      case .received: break
      }
      if !started { deadline = clock.now.advanced(by: .milliseconds(Int(timeouts.header * 1000))) }
      found = buffer.firstRange(of: separator)
    }
    guard let headerEnd = found?.upperBound else { return .closed }
    let head: Head
    switch parseHead(buffer[..<headerEnd]) {
    case .failure(let bad): return .bad(bad.status, bad.message)
    case .success(let h): head = h
    }
    let length = head.contentLength
    if length > maxBody { return .bad(413, "the request body is \(length) bytes; the limit is \(maxBody)") }
    if let budget, length > 0, !budget.reserve(length) {
      return .bad(503, "the server holds as many request bodies as it may; try again shortly")
    }
    let bodyDeadline = clock.now.advanced(by: .milliseconds(Int(timeouts.body * 1000)))
    while buffer.count < headerEnd + length {
      let outcome = receive(fd, &buffer, until: bodyDeadline)
      if outcome == .received { continue }
      budget?.release(length)
      if outcome == .timedOut {
        return .bad(408, "the request's body took longer than \(NumberText.format(timeouts.body)) s")
      }
      return .closed
    }
    let body = Array(buffer[headerEnd..<(headerEnd + length)])
    buffer.removeFirst(headerEnd + length)
    return .request(
      method: head.method, path: head.path, headers: head.headers, body: body, keepAlive: head.keepAlive)
  }

  /// A request's head: its line and headers, checked.
  package struct Head: Sendable, Equatable {
    package var method: String
    package var path: String
    package var version: String
    /// Names lower-cased; a repeated header keeps its last value (a repeated Content-Length is refused).
    package var headers: [String: String]
    package var contentLength: Int
    package var keepAlive: Bool
  }

  package struct BadRequestError: Error, Sendable, Equatable {
    package var status: Int
    package var message: String
  }

  /// Parses the bytes of a head up to and including its blank line (pure: the fuzz target's
  /// entry). Refuses what a proxy and this server could read differently: a repeated
  /// Content-Length, Transfer-Encoding, a line without ':', a bad request line.
  package static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<Head, BadRequestError> {
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = bytes.startIndex
    var i = bytes.startIndex
    while i + 1 < bytes.endIndex {
      if bytes[i] == 13 && bytes[i + 1] == 10 {
        lines.append(bytes[lineStart..<i])
        i += 2
        lineStart = i
      } else {
        i += 1
      }
    }
    guard let first = lines.first else {
      return .failure(BadRequestError(status: 400, message: "not an HTTP/1.x request"))
    }
    let requestLine = first.split(separator: 32, omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    guard requestLine.count == 3, !requestLine[0].isEmpty, !requestLine[1].isEmpty,
      requestLine[2].hasPrefix("HTTP/1.")
    else {
      return .failure(BadRequestError(status: 400, message: "not an HTTP/1.x request"))
    }
    var headers: [String: String] = [:]
    var lengths = 0
    for line in lines.dropFirst() where !line.isEmpty {
      guard let colon = line.firstIndex(of: 58) else {
        return .failure(BadRequestError(status: 400, message: "a header line has no ':'"))
      }
      var value = line[(colon + 1)...]
      while let f = value.first, f == 32 || f == 9 { value = value.dropFirst() }
      while let l = value.last, l == 32 || l == 9 { value = value.dropLast() }
      let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
      if name == "content-length" { lengths += 1 }
      headers[name] = String(decoding: value, as: UTF8.self)
    }
    if lengths > 1 {
      return .failure(BadRequestError(status: 400, message: "the request has more than one Content-Length"))
    }
    if headers["transfer-encoding"] != nil {
      return .failure(BadRequestError(status: 411, message: "send the body with a Content-Length"))
    }
    let lengthText = headers["content-length"] ?? "0"
    guard !lengthText.isEmpty, lengthText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let length = Int(lengthText)
    else {
      return .failure(BadRequestError(status: 400, message: "the Content-Length is not a number"))
    }
    let keepAlive = headers["connection"]?.lowercased() != "close" && requestLine[2] == "HTTP/1.1"
    return .success(
      Head(
        method: requestLine[0], path: requestLine[1], version: requestLine[2], headers: headers,
        contentLength: length, keepAlive: keepAlive))
  }

  enum Received: Equatable { case received, closed, timedOut }

  /// Waits for bytes until `deadline`, then appends what came.
  static func receive(_ fd: Int32, _ buffer: inout [UInt8], until deadline: ContinuousClock.Instant) -> Received {
    while true {
      let left = ContinuousClock.now.duration(to: deadline)
      if left <= .zero { return .timedOut }
      let ms = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let n = poll(&p, 1, ms)
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return .closed }
      if n == 0 { continue }
      return receive(fd, &buffer) ? .received : .closed
    }
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
    case 408: return "Request Timeout"
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

/// The bytes of request bodies all connections may hold at once (README "Limits and safety").
package final class BodyBudget: Sendable {
  package let limit: Int
  private let held = Mutex(0)

  package init(limit: Int) { self.limit = limit }

  /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
  package func reserve(_ bytes: Int) -> Bool {
    held.withLock { h in
      guard bytes <= limit - h else { return false }
      h += bytes
      return true
    }
  }

  package func release(_ bytes: Int) { held.withLock { $0 = max(0, $0 - bytes) } }

  package var inUse: Int { held.withLock { $0 } }
}
