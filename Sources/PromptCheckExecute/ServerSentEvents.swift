import PromptCheckCore

/// Server-sent events (the WHATWG rules): `data:` lines with or without a
/// space, multi-line data joined by "\n", `:` comment lines ignored, `\r\n`,
/// `\n` or `\r` line ends, a blank line dispatching the event.
package struct ServerSentEvent: Sendable, Equatable {
  package var event: String?
  package var data: String
  package var id: String?

  /// The event as a stream carries it, with the blank line that ends it.
  package var wire: String {
    var text = ""
    if let event { text += "event: \(event)\n" }
    if let id { text += "id: \(id)\n" }
    for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
    return text + "\n"
  }
}

package enum ServerSentEvents {
  /// The most events one stream may carry (a long answer sends about one a token).
  package static let maxEvents = 250_000
  /// The longest line of a stream, in bytes.
  package static let maxLineBytes = 4 << 20

  /// Why a stream body is past the limits on events or line length, or nil; read before the
  /// events are parsed, so such a body costs no more memory than its bytes.
  package static func limitProblem(_ body: [UInt8], maxEvents: Int = maxEvents, maxLineBytes: Int = maxLineBytes)
    -> String?
  {
    var lineLength = 0
    var events = 0
    var lineHasField = false
    var pendingEvent = false
    var previous: UInt8 = 0
    for b in body {
      if b == 10 || b == 13 {
        if b == 10 && previous == 13 {
          previous = b
          continue
        }
        if lineLength == 0 {
          if pendingEvent {
            events += 1
            pendingEvent = false
            if events > maxEvents {
              return "the stream carries more than \(maxEvents) events (the most one answer may send)"
            }
          }
        } else if lineHasField {
          pendingEvent = true
        }
        lineLength = 0
        lineHasField = false
      } else {
        if lineLength == 0 { lineHasField = b != 58 }  // ':' starts a comment
        lineLength += 1
        if lineLength > maxLineBytes {
          return "a line of the stream is longer than \(maxLineBytes) bytes (the longest one event may be)"
        }
      }
      previous = b
    }
    return nil
  }

  /// Parses a whole stream body. An event left open at the end (no blank line after it) is still returned.
  package static func parse(_ text: String) -> [ServerSentEvent] {
    var events: [ServerSentEvent] = []
    var data: [Substring] = []
    var hasData = false
    var event: String?
    var id: String?
    func dispatch() {
      if hasData { events.append(ServerSentEvent(event: event, data: data.joined(separator: "\n"), id: id)) }
      data.removeAll()
      hasData = false
      event = nil
    }
    for rawLine in lines(text) {
      if rawLine.isEmpty {
        dispatch()
        continue
      }
      if rawLine.hasPrefix(":") { continue }  // comment, e.g. ": OPENROUTER PROCESSING"
      let field: Substring
      var value: Substring
      if let colon = rawLine.firstIndex(of: ":") {
        field = rawLine[..<colon]
        value = rawLine[rawLine.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
      } else {
        field = rawLine
        value = ""
      }
      switch field {
      case "data":
        data.append(value)
        hasData = true
      case "event": event = String(value)
      case "id": id = String(value)
      default: break  // retry and unknown fields
      }
    }
    dispatch()
    return events
  }

  /// Splits on CRLF, LF or CR.
  static func lines(_ text: String) -> [Substring] {
    var out: [Substring] = []
    var start = text.startIndex
    var i = text.startIndex
    let scalars = text.unicodeScalars
    var si = scalars.startIndex
    while si < scalars.endIndex {
      let u = scalars[si]
      if u == "\n" || u == "\r" {
        i = si
        out.append(text[start..<i])
        var next = scalars.index(after: si)
        if u == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
        start = next
        si = next
        continue
      }
      si = scalars.index(after: si)
    }
    if start < text.endIndex { out.append(text[start...]) }
    return out
  }
}

/// Assembles chat-completion chunks into one completion body, as a
/// non-streamed call would have returned it.
package struct StreamAssembler {
  package enum AssemblyError: Error, Sendable, Equatable {
    /// An `{"error": …}` object arrived in the stream.
    case errorEvent(message: String, body: JSON)
    /// The stream ended without `data: [DONE]` (retryable).
    case truncated(events: Int)
    /// A data line that is not JSON.
    case badEvent(String)
  }

  package init() {}

  /// Builds the completion from the events of one stream.
  package static func assemble(_ events: [ServerSentEvent]) -> Result<JSON, AssemblyError> {
    var a = StreamAssembler()
    var done = false
    for e in events {
      if e.data == "[DONE]" {
        done = true
        break
      }
      let chunk: JSON
      do {
        chunk = try JSON.parse(e.data)
      } catch {
        return .failure(
          .badEvent("a stream event is not JSON (\(error.description)): \(Excerpt.start(e.data, length: 60))"))
      }
      if let err = chunk["error"], err != .null {
        return .failure(.errorEvent(message: ChatResponse.errorMessage(err), body: chunk))
      }
      a.add(chunk)
    }
    guard done else { return .failure(.truncated(events: events.count)) }
    return .success(a.result)
  }

  private var id: JSON?
  private var created: JSON?
  private var model: JSON?
  private var provider: JSON?
  private var fingerprint: JSON?
  private var usage: JSON?
  private var role = "assistant"
  private var content = ""
  private var hasContent = false
  private var reasoning = ""
  private var hasReasoning = false
  private var reasoningField = "reasoning"
  private var finishReason: JSON = .null
  private var toolCalls: [Int: (id: String?, type: String?, name: String, arguments: String)] = [:]

  mutating func add(_ chunk: JSON) {
    if let v = chunk["id"] { id = v }
    if let v = chunk["created"] { created = v }
    if let v = chunk["model"] { model = v }
    if let v = chunk["provider"] { provider = v }
    if let v = chunk["system_fingerprint"], v != .null { fingerprint = v }
    if let u = chunk["usage"], u != .null { usage = u }
    for choice in chunk["choices"]?.arrayValue ?? [] {
      if let f = choice["finish_reason"], f != .null { finishReason = f }
      guard let delta = choice["delta"] else { continue }
      if let r = delta["role"]?.stringValue { role = r }
      if let c = delta["content"]?.stringValue {
        content += c
        hasContent = true
      }
      for field in ["reasoning", "reasoning_content"] {
        if let r = delta[field]?.stringValue {
          reasoning += r
          hasReasoning = true
          reasoningField = field
        }
      }
      for call in delta["tool_calls"]?.arrayValue ?? [] {
        let index: Int
        if case .int(let i)? = call["index"] { index = i } else { index = toolCalls.count }
        var entry = toolCalls[index] ?? (nil, nil, "", "")
        if let v = call["id"]?.stringValue { entry.id = v }
        if let v = call["type"]?.stringValue { entry.type = v }
        if let v = call["function"]?["name"]?.stringValue { entry.name += v }
        if let v = call["function"]?["arguments"]?.stringValue { entry.arguments += v }
        toolCalls[index] = entry
      }
    }
  }

  var result: JSON {
    var message = JSONObject()
    message["role"] = .string(role)
    message["content"] = hasContent || toolCalls.isEmpty ? .string(content) : .null
    if hasReasoning { message[reasoningField] = .string(reasoning) }
    if !toolCalls.isEmpty {
      message["tool_calls"] = .array(
        toolCalls.sorted { $0.key < $1.key }.map { _, c in
          var o = JSONObject()
          if let id = c.id { o["id"] = .string(id) }
          o["type"] = .string(c.type ?? "function")
          o["function"] = ["name": .string(c.name), "arguments": .string(c.arguments)]
          return .object(o)
        })
    }
    var body = JSONObject()
    if let id { body["id"] = id }
    body["object"] = "chat.completion"
    if let created { body["created"] = created }
    if let model { body["model"] = model }
    if let provider { body["provider"] = provider }
    if let fingerprint { body["system_fingerprint"] = fingerprint }
    body["choices"] = [["index": 0, "message": .object(message), "finish_reason": finishReason]]
    if let usage { body["usage"] = usage }
    return .object(body)
  }
}
