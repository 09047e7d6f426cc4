import Foundation
import PromptCheckCore
import PromptCheckServe
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
    /// A body of raw bytes (a gzip body with `Content-Encoding: gzip`, say).
    case bytes(status: Int, headers: [(String, String)], body: [UInt8])
    /// A stream that never ends: `piece` every `interval` seconds, until the client leaves or
    /// `seconds` have passed (the test's own bound).
    case endless(piece: String, interval: Double, seconds: Double)
    /// Accepts the request and answers nothing for `seconds` (then closes).
    case silent(seconds: Double)

    package static func json(_ value: JSON, status: Int = 200, headers: [(String, String)] = []) -> Reply {
      .full(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.serialized())
    }

    package static func sse(_ events: [String], delay: Double = 0) -> Reply {
      .chunks(status: 200, headers: [("Content-Type", "text/event-stream")], pieces: events.map { (delay, $0) })
    }
  }

  private let listener: TCPListener
  private let state = Mutex(State())
  private let handler: @Sendable (Request, Int) -> Reply

  private struct State {
    var attempts: [String: Int] = [:]
    var requests: [Request] = []
    var active = 0
    var maxActive = 0
  }

  package init(handler: @escaping @Sendable (Request, Int) -> Reply) throws {
    self.handler = handler
    listener = try TCPListener(backlog: 128)
    listener.start { [self] fd in serve(fd) }
  }

  package var port: Int { listener.port }
  /// A path segment of this server's own: a client of an earlier server that retries on a port
  /// this one reuses (tests run in parallel) is turned away instead of answered and counted.
  package let token = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
  package var baseURL: String { "http://127.0.0.1:\(port)/\(token)/v1" }

  /// Requests seen so far, in order of arrival.
  package var requests: [Request] { state.withLock { $0.requests } }
  package var connectionCount: Int { listener.connectionCount }
  /// The most requests this server was answering at the same time.
  package var maxConcurrentRequests: Int { state.withLock { $0.maxActive } }
  package func attempts(model: String) -> Int { state.withLock { $0.attempts[model] ?? 0 } }

  /// Stops listening and ends kept-alive connections too: a client's connection cache must not
  /// reach this server's handler through a port a later server reuses.
  package func stop() { listener.stop() }

  deinit { stop() }

  private func serve(_ fd: Int32) {
    var buffer: [UInt8] = []
    while case .request(let method, let rawPath, let headers, let body, _) = HTTPWire.readRequest(fd, &buffer) {
      let prefix = "/" + token + "/"
      guard rawPath.hasPrefix(prefix) else {
        HTTPWire.send(
          fd, Array("HTTP/1.1 421 Misdirected Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        return
      }
      let path = "/" + rawPath.dropFirst(prefix.count)
      let request = Request(method: method, path: path, headers: headers, body: body)
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
      var head = "HTTP/1.1 \(status) \(HTTPWire.reason(status))\r\nContent-Length: \(bytes.count)\r\n"
      for (n, v) in headers { head += "\(n): \(v)\r\n" }
      HTTPWire.send(fd, Array((head + "\r\n").utf8) + bytes)
      return true
    case .chunks(let status, let headers, let pieces):
      var head = "HTTP/1.1 \(status) \(HTTPWire.reason(status))\r\nConnection: close\r\n"
      for (n, v) in headers { head += "\(n): \(v)\r\n" }
      HTTPWire.send(fd, Array((head + "\r\n").utf8))
      for (delay, text) in pieces {
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if !HTTPWire.send(fd, Array(text.utf8)) { return false }
      }
      return false
    case .delayed(let seconds, let inner):
      Thread.sleep(forTimeInterval: seconds)
      return write(inner, to: fd)
    case .reset:
      var l = linger(l_onoff: 1, l_linger: 0)
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
      return false
    case .bytes(let status, let headers, let body):
      var head = "HTTP/1.1 \(status) \(HTTPWire.reason(status))\r\nContent-Length: \(body.count)\r\n"
      for (n, v) in headers { head += "\(n): \(v)\r\n" }
      HTTPWire.send(fd, Array((head + "\r\n").utf8) + body)
      return true
    case .endless(let piece, let interval, let seconds):
      let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
      guard HTTPWire.send(fd, Array(head.utf8)) else { return false }
      let end = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
      let bytes = Array(piece.utf8)
      while ContinuousClock.now < end {
        if !HTTPWire.send(fd, bytes) { return false }
        if interval > 0 { Thread.sleep(forTimeInterval: interval) }
      }
      return false
    case .silent(let seconds):
      let end = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
      var byte: UInt8 = 0
      // Until the client hangs up or the time is over.
      while ContinuousClock.now < end {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, 50) > 0, recv(fd, &byte, 1, Int32(MSG_PEEK)) <= 0 { return false }
      }
      return false
    case .truncated(let status, let body):
      let bytes = Array(body.utf8)
      HTTPWire.send(fd, Array("HTTP/1.1 \(status) OK\r\nContent-Length: \(bytes.count + 100)\r\n\r\n".utf8) + bytes)
      return false
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

  /// A completion that calls tools (`finish_reason: tool_calls`, content null), each `(name, arguments)`.
  package static func toolCalls(_ calls: [(name: String, arguments: String)], model: String = "test-model") -> JSON {
    guard case .object(var o) = completion("", model: model, finish: "tool_calls") else { return .null }
    o["choices"] = [
      [
        "index": 0,
        "message": [
          "role": "assistant", "content": .null,
          "tool_calls": .array(
            calls.enumerated().map { k, c in
              [
                "id": .string("call_\(k + 1)"), "type": "function",
                "function": ["name": .string(c.name), "arguments": .string(c.arguments)],
              ]
            }),
        ],
        "finish_reason": "tool_calls",
      ]
    ]
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
