import Foundation
import PromptCheck
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 (port 0) that answers like an
/// OpenAI-compatible endpoint, or misbehaves on purpose, as a script says.
/// Each request is answered by `handler(request, attempt)`, where `attempt`
/// counts the requests seen so far with the same model (1-based).
package final class LoopbackServer: Sendable {
  package struct Request: Sendable {
    package var method: String
    package var path: String
    package var headers: [String: String]
    package var body: [UInt8]
    package var json: JSON? { try? JSON.parse(bytes: body) }
    package var model: String { json?["model"]?.stringValue ?? "" }
  }

  package indirect enum Reply: Sendable {
    /// A complete response with Content-Length.
    case full(status: Int, headers: [(String, String)] = [], body: String)
    /// A close-delimited body written piece by piece, with a pause before each piece.
    case chunks(status: Int, headers: [(String, String)] = [], pieces: [(delay: Double, text: String)])
    /// Waits, then answers.
    case delayed(Double, Reply)
    /// Resets the connection without answering.
    case reset
    /// Sends a Content-Length larger than the body, then closes.
    case truncated(status: Int, body: String)

    package static func json(_ value: JSON, status: Int = 200, headers: [(String, String)] = []) -> Reply {
      .full(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.serialized())
    }

    package static func sse(_ events: [String], delay: Double = 0) -> Reply {
      .chunks(status: 200, headers: [("Content-Type", "text/event-stream")], pieces: events.map { (delay, $0) })
    }
  }

  package let port: Int
  private let listener: Int32
  private let state = Mutex(State())
  private let handler: @Sendable (Request, Int) -> Reply

  private struct State: ~Copyable {
    var attempts: [String: Int] = [:]
    var requests: [Request] = []
    var connections = 0
    var active = 0
    var maxActive = 0
    var open: Set<Int32> = []
    var stopped = false
  }

  package init(handler: @escaping @Sendable (Request, Int) -> Reply) throws {
    self.handler = handler
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 128) == 0 else {
      close(fd)
      throw POSIXError(.EADDRINUSE)
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    port = Int(UInt16(bigEndian: addr.sin_port))
    listener = fd
    let thread = Thread { [self] in acceptLoop() }
    thread.start()
  }

  package var baseURL: String { "http://127.0.0.1:\(port)/v1" }

  /// Requests seen so far, in order of arrival.
  package var requests: [Request] { state.withLock { $0.requests } }
  package var connectionCount: Int { state.withLock { $0.connections } }
  /// The most requests this server was answering at the same time.
  package var maxConcurrentRequests: Int { state.withLock { $0.maxActive } }
  package func attempts(model: String) -> Int { state.withLock { $0.attempts[model] ?? 0 } }

  package func stop() {
    let first = state.withLock { s in
      defer { s.stopped = true }
      return !s.stopped
    }
    if first {
      // Wakes the accept thread, which closes the listener itself: closing it
      // here could let that thread accept on the same fd number reused by
      // another server's listener.
      shutdown(listener, Int32(SHUT_RDWR))
      // Also end kept-alive connections: a client's connection cache must not
      // reach this server's handler through a port a later server reuses.
      // Under the lock: an fd closed (and reused by someone else) cannot be shut down by mistake.
      state.withLock { s in
        for fd in s.open { shutdown(fd, Int32(SHUT_RDWR)) }
      }
    }
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
        if s.stopped {
          close(client)
          return true
        }
        s.connections += 1
        s.open.insert(client)
        return false
      }
      if stopped { return }
      let thread = Thread { [self] in serve(client) }
      thread.start()
    }
  }

  private func serve(_ fd: Int32) {
    var buffer: [UInt8] = []
    defer {
      state.withLock { s in
        s.open.remove(fd)
        close(fd)
      }
    }
    while let request = readRequest(fd, &buffer) {
      let attempt = state.withLock { s -> Int in
        s.requests.append(request)
        let n = s.attempts[request.model, default: 0] + 1
        s.attempts[request.model] = n
        s.active += 1
        s.maxActive = max(s.maxActive, s.active)
        return n
      }
      let keepOpen = write(handler(request, attempt), to: fd)
      state.withLock { $0.active -= 1 }
      if !keepOpen { return }
    }
  }

  /// Writes a reply; false when the connection must close afterwards.
  private func write(_ reply: Reply, to fd: Int32) -> Bool {
    switch reply {
    case .full(let status, let headers, let body):
      let bytes = Array(body.utf8)
      var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Length: \(bytes.count)\r\n"
      for (n, v) in headers { head += "\(n): \(v)\r\n" }
      send(fd, Array((head + "\r\n").utf8) + bytes)
      return true
    case .chunks(let status, let headers, let pieces):
      var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nConnection: close\r\n"
      for (n, v) in headers { head += "\(n): \(v)\r\n" }
      send(fd, Array((head + "\r\n").utf8))
      for (delay, text) in pieces {
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if !send(fd, Array(text.utf8)) { return false }
      }
      return false
    case .delayed(let seconds, let inner):
      Thread.sleep(forTimeInterval: seconds)
      return write(inner, to: fd)
    case .reset:
      var l = linger(l_onoff: 1, l_linger: 0)
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
      return false
    case .truncated(let status, let body):
      let bytes = Array(body.utf8)
      send(fd, Array("HTTP/1.1 \(status) OK\r\nContent-Length: \(bytes.count + 100)\r\n\r\n".utf8) + bytes)
      return false
    }
  }

  @discardableResult
  private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return false }
      offset += n
    }
    return true
  }

  private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
    let separator: [UInt8] = [13, 10, 13, 10]
    var found = buffer.firstRange(of: separator)
    while found == nil {
      guard receive(fd, &buffer) else { return nil }
      found = buffer.firstRange(of: separator)
    }
    guard let headerEnd = found?.upperBound else { return nil }
    let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let requestLine = lines.removeFirst().split(separator: " ")
    guard requestLine.count >= 2 else { return nil }
    var headers: [String: String] = [:]
    for line in lines where !line.isEmpty {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    while buffer.count < headerEnd + length {
      guard receive(fd, &buffer) else { return nil }
    }
    let body = Array(buffer[headerEnd..<(headerEnd + length)])
    buffer.removeFirst(headerEnd + length)
    return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
  }

  private func receive(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 65536)
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return false }
    buffer.append(contentsOf: chunk[0..<n])
    return true
  }

  static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 404: return "Not Found"
    case 429: return "Too Many Requests"
    case 500: return "Internal Server Error"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    default: return "Status"
    }
  }
}

/// Building blocks for scripted OpenAI-style answers.
package enum FakeOpenAI {
  package static func completion(
    _ content: String, model: String = "test-model", finish: String = "stop", usage: JSON? = nil
  ) -> JSON {
    var o = JSONObject()
    o["id"] = "chatcmpl-1"
    o["object"] = "chat.completion"
    o["created"] = 1_700_000_000
    o["model"] = .string(model)
    o["choices"] = [
      ["index": 0, "message": ["role": "assistant", "content": .string(content)], "finish_reason": .string(finish)]
    ]
    o["usage"] = usage ?? ["prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15]
    return .object(o)
  }

  package static func chunk(_ delta: JSON, finish: String? = nil, model: String = "test-model") -> String {
    var choice = JSONObject()
    choice["index"] = 0
    choice["delta"] = delta
    choice["finish_reason"] = finish.map { .string($0) } ?? .null
    let c: JSON = [
      "id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": .string(model),
      "choices": [.object(choice)],
    ]
    return "data: \(c.serialized())\n\n"
  }

  /// A well-formed stream of `pieces` of content, a usage chunk and [DONE].
  package static func stream(_ pieces: [String], model: String = "test-model") -> [String] {
    var events = [chunk(["role": "assistant", "content": ""], model: model)]
    events += pieces.map { chunk(["content": .string($0)], model: model) }
    events.append(chunk([:], finish: "stop", model: model))
    events.append(
      "data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"model\":\"\(model)\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\n"
    )
    events.append("data: [DONE]\n\n")
    return events
  }
}

/// OpenRouter's personality, as its documentation describes it: `: OPENROUTER PROCESSING`
/// comments in streams, error objects inside 200s (in the body, or as a stream event
/// mid-answer), usage with reasoning and cached token details and `cost`, the serving
/// `provider`, and qwen3's inline `<think>` blocks.
package enum FakeOpenRouter {
  package static let usage: JSON = [
    "prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200,
    "prompt_tokens_details": ["cached_tokens": 100], "completion_tokens_details": ["reasoning_tokens": 50],
    "cost": 0.00003, "cost_details": ["upstream_inference_cost": 0.000028],
  ]

  /// A completion from `provider`, with OpenRouter's usage.
  package static func completion(
    _ content: String, provider: String = "Cerebras", model: String = "qwen/qwen3-32b", reasoning: String? = nil
  ) -> JSON {
    guard case .object(var o) = FakeOpenAI.completion(content, model: model, usage: usage) else { return .null }
    o["provider"] = .string(provider)
    if let reasoning, case .array(var choices)? = o["choices"], case .object(var choice) = choices[0],
      case .object(var message)? = choice["message"]
    {
      message["reasoning"] = .string(reasoning)
      choice["message"] = .object(message)
      choices[0] = .object(choice)
      o["choices"] = .array(choices)
    }
    return .object(o)
  }

  /// `{"error": {"code": N, "message": …}}` in a 200 body.
  package static func errorBody(_ code: Int, _ message: String = "Provider returned error") -> JSON {
    ["error": ["code": .int(code), "message": .string(message)]]
  }

  /// A stream with processing comments first; with `failAt`, an error event with that code
  /// replaces the rest of the answer after the first piece (OpenRouter's mid-stream error).
  package static func stream(_ pieces: [String], provider: String = "Cerebras", failAt code: Int? = nil) -> [String] {
    let events = [": OPENROUTER PROCESSING\n\n", ": OPENROUTER PROCESSING\n\n"]
    var answer = FakeOpenAI.stream(pieces, model: "qwen/qwen3-32b")
    if let code {
      answer = Array(answer.prefix(2))
      answer.append(
        "data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"provider\":\"\(provider)\",\"error\":{\"code\":\(code),\"message\":\"Rate limit exceeded upstream\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n"
      )
    }
    return events + answer
  }
}
