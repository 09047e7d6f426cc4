import Foundation
import PromptCheckCore

/// One recorded interaction (README "Cassettes"), as stored in `expectations/cassettes/SUITE/CASE.yaml`.
package struct Cassette: Sendable {
  /// A single request's cassette (and every cassette before steps) is format 1; a cassette with
  /// `steps` is format 2. Both are read.
  package static let formatVersion = 1
  package static let stepsFormatVersion = 2
  /// Response headers worth keeping (the rest is volatile or private).
  static let keptResponseHeaders: Set<String> = ["content-type"]
  static let secretHeaders: Set<String> = [
    "authorization", "cookie", "set-cookie", "x-api-key", "api-key", "proxy-authorization",
  ]

  package var caseID: String
  package var recordedAt: String
  package var durationMS: Int
  package var method: String
  package var url: String
  package var requestHeaders: [(name: String, value: String)]
  package var requestBody: JSON
  package var status: Int
  package var responseHeaders: [(name: String, value: String)]
  /// Non-streamed calls: the body. Streamed calls: the completion assembled from `events`.
  package var body: JSON
  /// Streamed calls: every event's data, verbatim and in order.
  package var events: [ServerSentEvent]?
  package var promptcheck: String = promptcheckVersion
  /// The case's judge calls (grader and embeddings), recorded beside its main call
  /// (README "Recorded judges").
  package var judges: [JudgeRecord] = []
  /// The case's steps after the first (README "Steps"), in order: empty for a single request.
  package var steps: [StepRecord] = []

  package var isStream: Bool { events != nil }

  /// One recorded judge call: matched by URL path and canonical request body, like the main call.
  package struct JudgeRecord: Sendable {
    /// The assertion it judged (`assert[1] (llm-rubric)`), to diagnose a stale one.
    package var assertion: String
    package var url: String
    package var requestBody: JSON
    package var status: Int
    package var body: JSON
    package var durationMS: Int
    /// The step whose answer it judged (1-based); nil: the case's final answer.
    package var step: Int?

    package init(
      assertion: String, url: String, requestBody: JSON, status: Int, body: JSON, durationMS: Int, step: Int? = nil
    ) {
      self.assertion = assertion
      self.url = url
      self.requestBody = requestBody
      self.status = status
      self.body = body
      self.durationMS = durationMS
      self.step = step
    }

    /// Whether it answers this request (its body already redacted).
    func answers(path: String, canonicalBody: String) -> Bool {
      URLParts.path(of: url) == path && requestBody.canonicalized.canonical == canonicalBody
    }

    /// The same call with the same answer (ignoring ids, times and durations).
    func same(as other: JudgeRecord) -> Bool {
      url == other.url && status == other.status && step == other.step
        && requestBody.canonical == other.requestBody.canonical
        && Cassette.stable(body) == Cassette.stable(other.body)
    }

    var json: JSON {
      var request = JSONObject()
      request["url"] = .string(url)
      request["body"] = requestBody
      var response = JSONObject()
      response["status"] = .int(status)
      response["body"] = body
      var o = JSONObject()
      o["assert"] = .string(assertion)
      if let step { o["step"] = .int(step) }
      o["duration_ms"] = .int(durationMS)
      o["request"] = .object(request)
      o["response"] = .object(response)
      return .object(o)
    }
  }

  /// True when the judges hold the same calls with the same answers, in any order.
  static func sameJudges(_ a: [JudgeRecord], _ b: [JudgeRecord]) -> Bool {
    a.count == b.count && a.allSatisfy { x in b.contains { x.same(as: $0) } }
  }

  /// The largest cassette written or read (README "Cassettes"): an answer that would make a
  /// larger one errors its case rather than fill the repository.
  package static let maxBytes = 16 * 1024 * 1024

  package init(
    caseID: String, recordedAt: Date, exchange: Exchange
  ) {
    self.caseID = caseID
    self.recordedAt = Self.timestamp(recordedAt)
    self.durationMS = Int((exchange.duration * 1000).rounded())
    self.method = exchange.method
    self.url = exchange.url
    self.requestHeaders = exchange.requestHeaders.filter { !Self.secretHeaders.contains($0.name.lowercased()) }
    self.requestBody = exchange.requestBody
    self.status = exchange.status
    self.responseHeaders = exchange.responseHeaders.filter { Self.keptResponseHeaders.contains($0.name.lowercased()) }
    self.body = exchange.decoded.body
    self.events = exchange.decoded.events
  }

  static func timestamp(_ d: Date) -> String { UTCTime.formatter(UTCTime.seconds).string(from: d) }

  /// The completion this cassette replays: a stream goes through the same assembly as a live one.
  /// A cassette that records an error (a status other than 2xx, an `error` object, a body that is
  /// no chat completion: promptcheck never records these, so it was edited) replays as that error.
  package func completion() -> Result<Completion, CallError> {
    if let problem = Self.recordedError(status: status, body: body) { return .failure(problem) }
    var answer = body
    if let events {
      switch StreamAssembler.assemble(events) {
      case .success(let assembled): answer = assembled
      case .failure(.errorEvent(_, let chunk)):
        return .failure(
          ChatResponse.inBodyError(chunk["error"] ?? .null, "the cassette's stream carries an error", status: status))
      case .failure(let f): return .failure(CallError(.badBody, "the cassette's stream does not assemble: \(f)"))
      }
    }
    if let problem = ChatResponse.malformation(answer) {
      return .failure(CallError(.badBody, "the cassette's answer is malformed: \(problem)", status: status))
    }
    return .success(Completion(response: answer, latencyMS: durationMS))
  }

  /// The error a recorded status and body stand for, or nil for a 2xx without an `error` object.
  static func recordedError(status: Int, body: JSON) -> CallError? {
    if !(200..<300).contains(status) {
      var message = "the cassette records HTTP \(status)"
      if let err = body["error"], err != .null { message += ": " + ChatResponse.errorMessage(err) }
      return CallError(.http, message, status: status)
    }
    if let err = body["error"], err != .null {
      return ChatResponse.inBodyError(err, "the cassette records an error", status: status)
    }
    return nil
  }

  // MARK: File form

  /// The YAML document, keys in a fixed order. Every occurrence of each secret is replaced by `<redacted>`.
  package func yaml(redacting redactor: Redactor) throws -> String {
    var request = JSONObject()
    request["method"] = .string(method)
    request["url"] = .string(url)
    request["headers"] = .object(JSONObject(requestHeaders.map { ($0.name, .string($0.value)) }))
    request["body"] = requestBody
    var response = JSONObject()
    response["status"] = .int(status)
    response["headers"] = .object(JSONObject(responseHeaders.map { ($0.name, .string($0.value)) }))
    if let events = events.map({ redactor.events($0) }) {
      response["events"] = .array(
        events.map { e in
          if e.event == nil && e.id == nil { return .string(e.data) }
          var o = JSONObject()
          if let ev = e.event { o["event"] = .string(ev) }
          if let id = e.id { o["id"] = .string(id) }
          o["data"] = .string(e.data)
          return .object(o)
        })
      response["completion"] = body
    } else {
      response["body"] = body
    }
    var root = JSONObject()
    root["version"] = .int(steps.isEmpty ? Self.formatVersion : Self.stepsFormatVersion)
    root["promptcheck"] = .string(promptcheck)
    root["case"] = .string(caseID)
    root["recorded_at"] = .string(recordedAt)
    root["duration_ms"] = .int(durationMS)
    root["request"] = .object(request)
    root["response"] = .object(response)
    if !steps.isEmpty { root["steps"] = .array(steps.map(\.json)) }
    if !judges.isEmpty { root["judges"] = .array(judges.map(\.json)) }
    let redacted = redactor(.object(root))
    let header =
      "# promptcheck cassette: recorded interaction for \(caseID). Re-record with promptcheck run --mode record.\n"
    return header + (try YAMLEmitter.emit(redacted))
  }

  /// The same cassette with every secret replaced (what `yaml` writes, and what `serve` answers).
  package func redacted(_ redactor: Redactor) -> Cassette {
    guard !redactor.isEmpty else { return self }
    var c = self
    c.url = redactor(url)
    c.requestHeaders = requestHeaders.map { ($0.name, redactor($0.value)) }
    c.requestBody = redactor(requestBody)
    c.responseHeaders = responseHeaders.map { ($0.name, redactor($0.value)) }
    c.body = redactor(body)
    c.events = events.map { redactor.events($0) }
    c.judges = judges.map { j in
      var j = j
      j.url = redactor(j.url)
      j.requestBody = redactor(j.requestBody)
      j.body = redactor(j.body)
      return j
    }
    c.steps = steps.map { s in
      var s = s
      s.request = redactor(s.request)
      s.response = redactor(s.response)
      return s
    }
    return c
  }

  package struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
  }

  /// Reads a cassette file's text.
  package static func parse(_ text: String, file: String) throws(ReadError) -> Cassette {
    try parse(bytes: Array(text.utf8), file: file)
  }

  /// Reads a cassette file's bytes.
  package static func parse(bytes: [UInt8], file: String) throws(ReadError) -> Cassette {
    let root: JSON
    do {
      var limits = YAMLLimits()
      limits.maxBytes = maxBytes
      limits.maxNodes = 10_000_000
      limits.maxDepth = 512
      root = try YAMLParser.parseJSON(bytes: bytes, file: file, limits: limits)
    } catch {
      throw ReadError(message: "cassette \(error.description)")
    }
    func fail(_ m: String) -> ReadError { ReadError(message: "\(file): error: \(m)") }
    guard case .object = root else { throw fail("a cassette must be a map") }
    guard case .int(let version)? = root["version"] else { throw fail("the cassette has no format 'version'") }
    guard version == formatVersion || version == stepsFormatVersion else {
      throw fail(
        "cassette format version \(version) is not supported by promptcheck \(promptcheckVersion) (it reads versions \(formatVersion) and \(stepsFormatVersion)); re-record it"
      )
    }
    // Each field said by name: missing, or present with the wrong type.
    func field(_ parent: JSON?, _ path: String, _ key: String, _ type: String, _ ok: (JSON) -> Bool) throws(ReadError)
      -> JSON
    {
      guard let v = parent?[key] else { throw fail("the cassette has no \(path)") }
      guard ok(v) else { throw fail("\(path) must be \(type), found \(Excerpt.json(v, length: 40))") }
      return v
    }
    let request = try field(root, "request", "request", "a map") { $0.objectValue != nil }
    let response = try field(root, "response", "response", "a map") { $0.objectValue != nil }
    let method = try field(request, "request.method", "method", "a string") { $0.stringValue != nil }.stringValue ?? ""
    let url = try field(request, "request.url", "url", "a string") { $0.stringValue != nil }.stringValue ?? ""
    let requestBody = try field(request, "request.body", "body", "a JSON value") { _ in true }
    guard
      case .int(let status) = try field(
        response, "response.status", "status", "an integer",
        {
          if case .int = $0 { return true } else { return false }
        })
    else { throw fail("response.status must be an integer") }
    func headers(_ j: JSON?) -> [(name: String, value: String)] {
      (j?.objectValue?.members ?? []).map { ($0.key, $0.value.stringValue ?? $0.value.serialized()) }
    }
    var events: [ServerSentEvent]?
    let body: JSON
    if let list = response["events"]?.arrayValue {
      events = list.map { e in
        if let s = e.stringValue { return ServerSentEvent(event: nil, data: s, id: nil) }
        return ServerSentEvent(
          event: e["event"]?.stringValue, data: e["data"]?.stringValue ?? "", id: e["id"]?.stringValue)
      }
      body = response["completion"] ?? .null
    } else if let b = response["body"] {
      body = b
    } else {
      throw fail("the cassette's response has neither 'body' nor 'events'")
    }
    var c = Cassette(
      caseID: root["case"]?.stringValue ?? "", recordedAtText: root["recorded_at"]?.stringValue ?? "",
      durationMS: {
        if case .int(let d)? = root["duration_ms"] { return d }
        return 0
      }(),
      method: method, url: url, requestHeaders: headers(request["headers"]), requestBody: requestBody,
      status: status, responseHeaders: headers(response["headers"]), body: body, events: events)
    c.promptcheck = root["promptcheck"]?.stringValue ?? ""
    if let list = root["judges"] {
      guard let items = list.arrayValue else {
        throw fail("judges must be a list, found \(Excerpt.json(list, length: 40))")
      }
      for (i, j) in items.enumerated() {
        let what = "judges[\(i)]"
        let request = try field(j, what + ".request", "request", "a map") { $0.objectValue != nil }
        let response = try field(j, what + ".response", "response", "a map") { $0.objectValue != nil }
        let url = try field(request, what + ".request.url", "url", "a string") { $0.stringValue != nil }
        let body = try field(request, what + ".request.body", "body", "a JSON value") { _ in true }
        guard
          case .int(let status) = try field(
            response, what + ".response.status", "status", "an integer",
            {
              if case .int = $0 { return true } else { return false }
            })
        else { throw fail("\(what).response.status must be an integer") }
        let answer = try field(response, what + ".response.body", "body", "a JSON value") { _ in true }
        var duration = 0
        if case .int(let d)? = j["duration_ms"] { duration = d }
        var step: Int?
        if let n = j["step"] {
          guard case .int(let k) = n, k >= 1 else {
            throw fail("\(what).step must be a step number from 1, found \(Excerpt.json(n, length: 40))")
          }
          step = k
        }
        c.judges.append(
          JudgeRecord(
            assertion: j["assert"]?.stringValue ?? "", url: url.stringValue ?? "", requestBody: body, status: status,
            body: answer, durationMS: duration, step: step))
      }
    }
    if let list = root["steps"] {
      guard version == stepsFormatVersion else {
        throw fail("'steps' needs cassette format version \(stepsFormatVersion), found version \(version)")
      }
      guard let items = list.arrayValue, !items.isEmpty else {
        throw fail("steps must be a non-empty list, found \(Excerpt.json(list, length: 40))")
      }
      for (i, item) in items.enumerated() {
        c.steps.append(try StepRecord.parse(item, what: "steps[\(i)]", fail: fail))
      }
    } else if version == stepsFormatVersion {
      throw fail("a format \(stepsFormatVersion) cassette lists its 'steps'")
    }
    if let k = c.judges.compactMap(\.step).first(where: { $0 > c.steps.count + 1 }) {
      throw fail("a judge call names step \(k), but the cassette records \(c.steps.count + 1)")
    }
    return c
  }

  init(
    caseID: String, recordedAtText: String, durationMS: Int, method: String, url: String,
    requestHeaders: [(name: String, value: String)], requestBody: JSON, status: Int,
    responseHeaders: [(name: String, value: String)], body: JSON, events: [ServerSentEvent]?
  ) {
    self.caseID = caseID
    self.recordedAt = recordedAtText
    self.durationMS = durationMS
    self.method = method
    self.url = url
    self.requestHeaders = requestHeaders
    self.requestBody = requestBody
    self.status = status
    self.responseHeaders = responseHeaders
    self.body = body
    self.events = events
  }

  // MARK: Matching

  /// Nil when the cassette matches the request (method, URL path, canonical body);
  /// otherwise the first differing field with both values.
  package func mismatch(with request: ChatRequest, redacting redactor: Redactor = .none) -> String? {
    if method != "POST" { return "method: recorded \(method), now POST" }
    let recordedPath = URLParts.path(of: url)
    // A `${VAR}` in the base URL is recorded as the reference: compared as the reference too.
    let path = redactor(request.urlPath)
    if recordedPath != path { return "url path: recorded \(recordedPath), now \(path)" }
    let now = redactor(request.body)
    // JSON equality is canonical equality (member order ignored, 1 equals 1.0), without
    // writing either body out.
    if requestBody == now { return nil }
    return Self.firstDifference(requestBody.canonicalized, now.canonicalized, path: "body") ?? "body"
  }

  package static func firstDifference(_ a: JSON, _ b: JSON, path: String) -> String? {
    switch (a, b) {
    case (.object(let x), .object(let y)):
      for (k, v) in y.members {
        guard let w = x[k] else { return "\(path).\(k): not recorded, now \(Excerpt.json(v, length: 60))" }
        if let d = firstDifference(w, v, path: "\(path).\(k)") { return d }
      }
      for (k, w) in x.members where y[k] == nil {
        return "\(path).\(k): recorded \(Excerpt.json(w, length: 60)), now absent"
      }
      return nil
    case (.array(let x), .array(let y)):
      for i in 0..<min(x.count, y.count) {
        if let d = firstDifference(x[i], y[i], path: "\(path)[\(i)]") { return d }
      }
      if x.count != y.count { return "\(path): recorded \(x.count) items, now \(y.count)" }
      return nil
    case (.string(let x), .string(let y)):
      return x == y ? nil : TextChange.describe(path, recorded: x, now: y)
    default:
      return a == b ? nil : "\(path): recorded \(Excerpt.json(a, length: 60)), now \(Excerpt.json(b, length: 60))"
    }
  }

  /// What identifies the backend that answered, for drift notices.
  var backend: [(String, String)] {
    [
      ("model", body["model"]?.stringValue ?? ""), ("provider", body["provider"]?.stringValue ?? ""),
      ("system_fingerprint", body["system_fingerprint"]?.stringValue ?? ""),
    ]
  }

  /// True when the two recordings hold the same interaction: ignoring when and
  /// how long, and the per-call `id` and `created` every response carries, so
  /// re-recording an unchanged answer leaves the file as it was.
  func sameInteraction(as other: Cassette) -> Bool {
    guard requestBody.canonical == other.requestBody.canonical, url == other.url, status == other.status,
      Self.stable(body) == Self.stable(other.body), (events == nil) == (other.events == nil)
    else { return false }
    guard steps.count == other.steps.count,
      zip(steps, other.steps).allSatisfy({ $0.kind == $1.kind && $0.request.canonical == $1.request.canonical })
    else { return false }
    for (x, y) in zip(steps, other.steps) {
      guard x.response["status"] == y.response["status"], x.response["content"] == y.response["content"],
        Self.stable(x.response["body"] ?? .null) == Self.stable(y.response["body"] ?? .null)
      else { return false }
    }
    guard let a = events, let b = other.events else { return true }
    return a.count == b.count
      && zip(a, b).allSatisfy { x, y in
        x.event == y.event && Self.stable(x.data) == Self.stable(y.data)
      }
  }

  static let volatileFields = ["id", "created"]

  /// The body without what changes on every call: the response's `id` and
  /// `created`, and the ids of its tool calls (servers mint them per call).
  static func stable(_ body: JSON) -> String {
    guard case .object(var o) = body else { return body.canonical }
    for f in volatileFields { o[f] = nil }
    return withoutToolCallIDs(.object(o)).canonical
  }

  static func withoutToolCallIDs(_ value: JSON, inToolCalls: Bool = false) -> JSON {
    switch value {
    case .array(let a): return .array(a.map { withoutToolCallIDs($0, inToolCalls: inToolCalls) })
    case .object(var o):
      if inToolCalls { o["id"] = nil }
      return .object(
        JSONObject(o.members.map { ($0.key, withoutToolCallIDs($0.value, inToolCalls: $0.key == "tool_calls")) }))
    default: return value
    }
  }

  static func stable(_ eventData: String) -> String {
    guard let json = try? JSON.parse(eventData) else { return eventData }
    return stable(json)
  }
}
