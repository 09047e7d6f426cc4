import PromptCheckCore

/// Decoding of chat-completions responses (pure).
package enum ChatResponse {
  package static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
  /// Codes of an error object inside a 200 (body or stream event) that are worth asking again:
  /// OpenRouter documents them as transient (rate limit, upstream down or overloaded, timeout).
  package static let retryableErrorCodes: Set<Int> = [408, 429, 502, 503, 504]

  /// The numeric `code` of an error object (OpenRouter sends a number; some servers a numeric string).
  static func errorCode(_ err: JSON) -> Int? {
    switch err["code"] {
    case .int(let c)?: return c
    case .double(let d)?: return Int(exactly: d)
    case .string(let s)?: return Int(s)
    default: return nil
    }
  }

  /// An error object carried by a 200 (in the body or a stream event), classified by its code.
  static func inBodyError(_ err: JSON, _ context: String, status: Int) -> CallError {
    let code = errorCode(err)
    var e = CallError(
      .errorObject, "\(context): \(errorMessage(err))", retryable: code.map(retryableErrorCodes.contains) ?? false,
      status: status)
    e.rateLimited = code == 429
    e.overloaded = code == 503
    return e
  }

  /// A successful call: the completion body and, for a stream, its events in order.
  package struct Decoded: Sendable {
    package var body: JSON
    package var events: [ServerSentEvent]?
  }

  /// The error of a response whose status is not 2xx; nil for a 2xx.
  static func statusError(_ response: HTTPResponse, now: Double) -> CallError? {
    guard !(200..<300).contains(response.status) else { return nil }
    let text = String(decoding: response.body, as: UTF8.self)
    var message = "HTTP \(response.status)"
    if let json = try? JSON.parse(bytes: response.body), let err = json["error"] {
      message += ": " + errorMessage(err)
    } else if !text.isEmpty {
      message += ": " + Excerpt.start(text.trimmingCharacters(in: " \n\r\t"), length: 200)
    }
    // A server that cannot take the request's response_format will not take it when asked again
    // (llama-cpp-python answers 500 to a json_schema it does not know).
    let retryable = retryableStatuses.contains(response.status) && !message.contains("response_format")
    var e = CallError(
      .http, message, retryable: retryable,
      retryAfter: retryable ? response.header("retry-after").flatMap { RetryAfter.seconds($0, now: now) } : nil,
      status: response.status)
    e.rateLimited = response.status == 429
    e.overloaded = response.status == 503
    return e
  }

  /// A 2xx body as JSON; not JSON, or an error object inside it, is the call's error.
  static func jsonBody(_ response: HTTPResponse, what: String) -> Result<JSON, CallError> {
    let body: JSON
    do {
      body = try JSON.parse(bytes: response.body)
    } catch {
      let text = String(decoding: response.body, as: UTF8.self)
      return .failure(
        CallError(
          .badBody, "\(what) is not JSON (\(error.description)); it starts \(Excerpt.start(text))",
          status: response.status))
    }
    if let err = body["error"], err != .null {
      return .failure(inBodyError(err, "the server answered \(response.status) with an error", status: response.status))
    }
    return .success(body)
  }

  /// An embeddings answer (`{data: [{embedding}]}`); malformed ones are errors, never recorded.
  package static func decodeEmbeddings(_ response: HTTPResponse, now: Double = 0) -> Result<Decoded, CallError> {
    if let e = statusError(response, now: now) { return .failure(e) }
    let body: JSON
    switch jsonBody(response, what: "the embeddings answer") {
    case .failure(let e): return .failure(e)
    case .success(let b): body = b
    }
    guard let data = body["data"]?.arrayValue, !data.isEmpty,
      data.allSatisfy({ Embedding.vector($0["embedding"]) != nil })
    else {
      return .failure(
        CallError(
          .badBody,
          "the embeddings answer is malformed: it needs data[].embedding lists of numbers; it is \(Excerpt.json(body))",
          status: response.status))
    }
    return .success(Decoded(body: body, events: nil))
  }

  package static func decode(_ response: HTTPResponse, stream: Bool, now: Double = 0) -> Result<Decoded, CallError> {
    let text = String(decoding: response.body, as: UTF8.self)
    if let e = statusError(response, now: now) { return .failure(e) }
    let contentType = response.header("content-type")?.lowercased() ?? ""
    let isEventStream = contentType.hasPrefix("text/event-stream")
    if stream && !isEventStream, let json = try? JSON.parse(bytes: response.body), json.objectValue != nil {
      // Asked for a stream, answered with one JSON body: an error object, or a server that does not stream.
      if let err = json["error"], err != .null {
        return .failure(
          inBodyError(err, "the server answered \(response.status) with an error", status: response.status))
      }
      return .failure(
        CallError(
          .badBody,
          "the request asked for a stream (stream: true), but the server answered with one JSON body"
            + " (content-type \(contentType.isEmpty ? "none" : contentType)); remove stream: true for this server",
          status: response.status))
    }
    if stream || isEventStream {
      if let problem = ServerSentEvents.limitProblem(response.body) {
        return .failure(CallError(.badBody, problem, status: response.status))
      }
      let events = ServerSentEvents.parse(text)
      switch StreamAssembler.assemble(events) {
      case .success(let body):
        if let problem = malformation(body) {
          return .failure(CallError(.badBody, "the stream is malformed: \(problem)", status: response.status))
        }
        return .success(Decoded(body: body, events: events))
      case .failure(.errorEvent(_, let chunk)):
        return .failure(inBodyError(chunk["error"] ?? .null, "the stream carried an error", status: response.status))
      case .failure(.truncated(let n)):
        return .failure(
          CallError(
            .truncatedStream, "the stream ended without [DONE] after \(n) event\(n == 1 ? "" : "s")", retryable: true,
            status: response.status))
      case .failure(.badEvent(let m)):
        return .failure(CallError(.badBody, m, status: response.status))
      }
    }
    let body: JSON
    switch jsonBody(response, what: "the response") {
    case .failure(let e): return .failure(e)
    case .success(let b): body = b
    }
    if let problem = malformation(body) {
      return .failure(CallError(.badBody, "the response is malformed: \(problem)", status: response.status))
    }
    return .success(Decoded(body: body, events: nil))
  }

  /// What makes a 200's body unusable as a chat completion, or nil. Such a body errors the
  /// case and is never recorded.
  package static func malformation(_ body: JSON) -> String? {
    guard body.objectValue != nil else { return "it is \(Excerpt.json(body, length: 40)), not an object" }
    guard let choices = body["choices"] else { return "it has no 'choices': \(Excerpt.json(body))" }
    guard let list = choices.arrayValue else { return "'choices' is \(Excerpt.json(choices, length: 40)), not a list" }
    guard let first = list.first else { return "'choices' is empty" }
    guard first.objectValue != nil else { return "choices[0] is not an object" }
    guard let message = first["message"], message.objectValue != nil else {
      return "choices[0] has no 'message' object"
    }
    switch message["content"] {
    case nil, .null?, .string?, .array?: break
    case let other?: return "choices[0].message.content is \(Excerpt.json(other, length: 40)), not text"
    }
    if let calls = message["tool_calls"], calls != .null, calls.arrayValue == nil {
      return "choices[0].message.tool_calls is not a list"
    }
    if let f = first["finish_reason"], f != .null, f.stringValue == nil {
      return "choices[0].finish_reason is \(Excerpt.json(f, length: 40)), not text"
    }
    if let usage = body["usage"], usage != .null {
      guard usage.objectValue != nil else { return "'usage' is \(Excerpt.json(usage, length: 40)), not an object" }
      for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        if let v = usage[k], v != .null, v.numberValue == nil { return "usage.\(k) is \(Excerpt.json(v, length: 40))" }
      }
      if let v = usage["cost"], v != .null, v.numberValue == nil {
        return "usage.cost is \(Excerpt.json(v, length: 40))"
      }
    }
    return nil
  }

  /// True for an answer with nothing in it: no content, no tool calls, no finish reason.
  package static func isEmptyAnswer(_ body: JSON) -> Bool {
    let choice = body["choices"]?.arrayValue?.first
    let message = choice?["message"]
    let content: Bool
    switch message?["content"] {
    case .string(let s)?: content = !s.isEmpty
    case .array(let parts)?: content = !parts.isEmpty
    default: content = false
    }
    let calls = !(message?["tool_calls"]?.arrayValue ?? []).isEmpty
    let finish = choice?["finish_reason"]?.stringValue != nil
    return !content && !calls && !finish
  }

  /// `error.message` (with the code when there is one), else the error as JSON.
  static func errorMessage(_ err: JSON) -> String {
    if let m = err["message"]?.stringValue {
      if let code = err["code"], code != .null, code.stringValue != m { return "\(m) (code \(code.serialized()))" }
      return m
    }
    if let s = err.stringValue { return s }
    return Excerpt.json(err)
  }
}

/// `Retry-After`: delta-seconds or an HTTP date.
package enum RetryAfter {
  /// Seconds to wait; `now` is seconds since 1970 (for HTTP dates).
  package static func seconds(_ value: String, now: Double) -> Double? {
    let v = value.trimmingCharacters(in: " \t")
    if let s = Double(v), s >= 0 { return s }
    guard let date = HTTPDate.parse(v) else { return nil }
    return max(0, date - now)
  }
}

/// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
enum HTTPDate {
  static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// Seconds since 1970, or nil.
  static func parse(_ s: String) -> Double? {
    let parts = s.split(separator: " ")
    guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
      let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
    else { return nil }
    let hms = parts[4].split(separator: ":").compactMap { Int($0) }
    guard hms.count == 3 else { return nil }
    // Days from civil (Howard Hinnant's algorithm).
    let y = month < 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let m = month + 1
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    return Double(days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
  }
}
