import PromptCheckCore

extension Cassette {
  /// A step after a case's first (README "Steps"), as a format 2 cassette lists it under `steps`:
  ///
  ///     - kind: model            # or app, or target: {method, url, body} → {status, body}
  ///       duration_ms: 812
  ///       request: {method: POST, url: …, body: {…}}
  ///       response: {status: 200, body: {…}}
  ///     - kind: tool             # {id, name, arguments} → {content, source}
  ///       request: {id: call_1, name: get_order, arguments: '{"id":"A1"}'}
  ///       response: {content: '{"status":"shipped"}', source: mock}
  ///     - kind: user             # a scripted turn → {content}
  ///       response: {content: Thanks}
  ///     - kind: user             # a simulated user's turn: its call, and {content} beside the answer
  ///       request: {method: POST, url: …, body: {…}}
  ///       response: {status: 200, body: {…}, content: Where is my order?}
  package struct StepRecord: Sendable {
    package var kind: Step.Kind
    package var durationMS: Int
    package var request: JSON
    package var response: JSON

    package init(kind: Step.Kind, durationMS: Int, request: JSON, response: JSON) {
      self.kind = kind
      self.durationMS = durationMS
      self.request = request
      self.response = response
    }

    /// A step as recorded: a model step's exchange; a tool step's call and result; a user turn.
    package init(_ step: Step, exchange: Exchange? = nil) {
      var request = JSONObject()
      var response = JSONObject()
      switch step.answer {
      case .toolResult(let t)?:
        if let id = t.callID { request["id"] = .string(id) }
        request["name"] = .string(t.name)
        request["arguments"] = .string(t.arguments)
        response["content"] = .string(t.content)
        response["source"] = .string(t.source)
      case .text(let text)?:
        response["content"] = .string(text)
      case .completion(let c)?:
        request["method"] = .string(exchange?.method ?? "POST")
        request["url"] = .string(exchange?.url ?? "")
        request["body"] = exchange?.requestBody ?? step.request
        response["status"] = .int(exchange?.status ?? 200)
        response["body"] = exchange?.decoded.body ?? c.response
      case nil:
        break
      }
      self.init(
        kind: step.kind, durationMS: step.durationMS, request: .object(request), response: .object(response))
    }

    var json: JSON {
      var o = JSONObject()
      o["kind"] = .string(kind.rawValue)
      o["duration_ms"] = .int(durationMS)
      if request.objectValue?.members.isEmpty == false { o["request"] = request }
      o["response"] = response
      return .object(o)
    }

    /// Reads one entry of `steps`; the message says what is wrong, by name.
    static func parse(_ j: JSON, what: String, fail: (String) -> ReadError) throws(ReadError) -> StepRecord {
      guard j.objectValue != nil else { throw fail("\(what) must be a map") }
      guard let kindText = j["kind"]?.stringValue else { throw fail("\(what) has no 'kind'") }
      guard let kind = Step.Kind(rawValue: kindText) else {
        let kinds = Step.Kind.allCases.map(\.rawValue).listedWithOr
        throw fail("\(what).kind must be \(kinds), found '\(kindText)'")
      }
      var duration = 0
      if let d = j["duration_ms"] {
        guard case .int(let ms) = d, ms >= 0 else { throw fail("\(what).duration_ms must be an integer") }
        duration = ms
      }
      let request = j["request"] ?? .object(JSONObject())
      guard request.objectValue != nil else { throw fail("\(what).request must be a map") }
      guard let response = j["response"], response.objectValue != nil else {
        throw fail("\(what) has no response map")
      }
      func need(_ parent: JSON, _ path: String, _ key: String, string: Bool) -> String? {
        guard let v = parent[key] else { return "\(what).\(path).\(key) is missing" }
        if string, v.stringValue == nil { return "\(what).\(path).\(key) must be a string" }
        return nil
      }
      let problems: [String?]
      switch kind {
      case .model, .app, .target:
        var status: String?
        if case .int? = response["status"] {} else { status = "\(what).response.status must be an integer" }
        problems = [
          need(request, "request", "url", string: true), need(request, "request", "body", string: false), status,
          need(response, "response", "body", string: false),
        ]
      case .tool:
        problems = [
          need(request, "request", "name", string: true), need(request, "request", "arguments", string: true),
          need(response, "response", "content", string: true), need(response, "response", "source", string: true),
        ]
      case .user:
        problems = [need(response, "response", "content", string: true)]
      }
      if let first = problems.compactMap({ $0 }).first { throw fail(first) }
      return StepRecord(kind: kind, durationMS: duration, request: request, response: response)
    }

    /// The step this record replays: a model step's answer goes through the same checks as a
    /// cassette's first answer (a recorded error replays as that error).
    package func step() -> Result<Step, CallError> {
      switch kind {
      case .target:
        // The app's answer is read from its body by the target's `response` (README "Testing your app").
        let body = response["body"] ?? .null
        let completion = Completion(content: "", response: body, latencyMS: durationMS)
        return .success(
          Step(
            kind: .target, request: request["body"] ?? .null, answer: .completion(completion), durationMS: durationMS))
      case .model, .app:
        let status: Int
        if case .int(let s)? = response["status"] { status = s } else { status = 0 }
        let body = response["body"] ?? .null
        if let problem = Cassette.recordedError(status: status, body: body) { return .failure(problem) }
        if let problem = ChatResponse.malformation(body) {
          return .failure(CallError(.badBody, "the cassette's answer is malformed: \(problem)", status: status))
        }
        let completion = Completion(response: body, latencyMS: durationMS)
        return .success(
          Step(kind: kind, request: request["body"] ?? .null, answer: .completion(completion), durationMS: durationMS))
      case .tool:
        let result = Step.ToolResult(
          callID: request["id"]?.stringValue, name: request["name"]?.stringValue ?? "",
          arguments: request["arguments"]?.stringValue ?? "", content: response["content"]?.stringValue ?? "",
          source: response["source"]?.stringValue ?? "")
        return .success(Step(kind: .tool, request: request, answer: .toolResult(result), durationMS: durationMS))
      case .user:
        var step = Step(kind: .user, answer: .text(response["content"]?.stringValue ?? ""), durationMS: durationMS)
        // A simulated user's turn holds its call: its usage is the simulator's.
        step.simulatorUsage = response["body"].flatMap { Completion(response: $0, latencyMS: durationMS).usage }
        if step.simulatorUsage != nil { step.request = request["body"] ?? .null }
        return .success(step)
      }
    }
  }

  /// Every step the cassette replays, the first (its root request and response) included.
  package func replayedSteps() -> Result<[Step], CallError> {
    var out: [Step] = []
    switch completion() {
    case .success(let c): out.append(.model(c))
    case .failure(let e): return .failure(e)
    }
    for (i, record) in steps.enumerated() {
      switch record.step() {
      case .success(let s): out.append(s)
      case .failure(var e):
        e.message = "step \(i + 2): " + e.message
        return .failure(e)
      }
    }
    return .success(out)
  }
}
