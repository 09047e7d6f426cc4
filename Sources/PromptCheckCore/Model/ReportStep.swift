/// One step of a case as the reports show it (README "Steps"): only a case of more than one step
/// lists them, so a single request's reports read as they always did.
package struct ReportStep: Sendable, Equatable {
  package var kind: Step.Kind
  package var durationMS: Int
  /// A model or app step's answer text; a user turn's text; a tool step's result.
  package var text: String
  /// A model step's tool calls; a tool step's call (one).
  package var toolCalls: [Completion.ToolCall]
  /// Where a tool step's result came from (`mock`, `exec`, `mcp:SERVER`).
  package var source: String?
  package var usage: Completion.Usage?
  package var judgeUsage: Completion.Usage?

  package init(_ s: Step) {
    kind = s.kind
    durationMS = s.durationMS
    usage = s.usage ?? s.simulatorUsage
    judgeUsage = s.judgeUsage
    source = nil
    switch s.answer {
    case .completion(let c)?:
      text = c.content
      toolCalls = c.toolCalls
    case .toolResult(let t)?:
      text = t.content
      toolCalls = [Completion.ToolCall(id: t.callID, name: t.name, arguments: t.arguments)]
      source = t.source
    case .text(let t)?:
      text = t
      toolCalls = []
    case nil:
      text = ""
      toolCalls = []
    }
  }

  /// `step 2 tool → get_order({"id":"A1"}) = "{\"status\":\"shipped\"}" (mock)`: one line, each
  /// text shortened to `width` characters.
  package func line(number: Int, width: Int = 60) -> String {
    func call(_ t: Completion.ToolCall) -> String {
      let args = t.arguments.unicodeScalars.count > width ? Excerpt.start(t.arguments, length: width) : t.arguments
      return "\(t.name)(\(args))"
    }
    let head = "step \(number) \(kind.rawValue) → "
    switch kind {
    case .tool:
      let result = Excerpt.start(text, length: width)
      return head + (toolCalls.first.map(call) ?? "?") + " = " + result + (source.map { " (\($0))" } ?? "")
    case .model, .app:
      if !toolCalls.isEmpty && text.isEmpty { return head + "calls " + toolCalls.map(call).joined(separator: ", ") }
      let calls = toolCalls.isEmpty ? "" : " and calls " + toolCalls.map(call).joined(separator: ", ")
      return head + Excerpt.start(text, length: width) + calls
    case .user, .target:
      return head + Excerpt.start(text, length: width)
    }
  }

  /// The steps as `on: trajectory` reads them: one line per step, each text whole and as sent
  /// (a multi-line text goes on over its lines):
  /// `step 1 model → calls get_order({"id":"A1"})`, `step 2 tool get_order ← {"status":"shipped"} (mock)`,
  /// `step 3 model → Shipped.`
  package static func transcript(_ steps: [Step]) -> String {
    steps.enumerated().map { k, s in
      let r = ReportStep(s)
      let calls = r.toolCalls.map { "\($0.name)(\($0.arguments))" }.joined(separator: ", ")
      let head = "step \(k + 1) \(r.kind.rawValue)"
      switch r.kind {
      case .tool:
        return "\(head) \(r.toolCalls.first?.name ?? "?") ← \(r.text)" + (r.source.map { " (\($0))" } ?? "")
      case .model, .app:
        if calls.isEmpty { return "\(head) → \(r.text)" }
        return r.text.isEmpty ? "\(head) → calls \(calls)" : "\(head) → \(r.text) and calls \(calls)"
      case .user, .target:
        return "\(head) → \(r.text)"
      }
    }.joined(separator: "\n")
  }

  // MARK: JSON form

  /// The step in a JSON report's `steps`.
  package var json: JSON {
    var o = JSONObject()
    o["kind"] = .string(kind.rawValue)
    o["duration_ms"] = .int(durationMS)
    o["text"] = .string(text)
    if !toolCalls.isEmpty {
      o["tool_calls"] = .array(
        toolCalls.map { t in
          var call = JSONObject()
          if let id = t.id { call["id"] = .string(id) }
          call["name"] = .string(t.name)
          call["arguments"] = .string(t.arguments)
          return .object(call)
        })
    }
    if let source { o["source"] = .string(source) }
    if let usage { o["usage"] = Self.usageJSON(usage) }
    if let judgeUsage { o["judge_usage"] = Self.usageJSON(judgeUsage) }
    return .object(o)
  }

  /// Reads a step of a JSON report; nil when it is not one.
  package init?(json o: JSON) {
    guard let kind = o["kind"]?.stringValue.flatMap(Step.Kind.init(rawValue:)) else { return nil }
    self.kind = kind
    if case .int(let d)? = o["duration_ms"] { durationMS = d } else { durationMS = 0 }
    text = o["text"]?.stringValue ?? ""
    toolCalls = (o["tool_calls"]?.arrayValue ?? []).map {
      Completion.ToolCall(
        id: $0["id"]?.stringValue, name: $0["name"]?.stringValue ?? "", arguments: $0["arguments"]?.stringValue ?? "")
    }
    source = o["source"]?.stringValue
    usage = o["usage"].flatMap(Self.usage)
    judgeUsage = o["judge_usage"].flatMap(Self.usage)
  }

  /// A usage object as reports write it (`prompt_tokens`, …, `cost`, `cost_estimated`).
  package static func usageJSON(_ u: Completion.Usage) -> JSON {
    var usage: [(key: String, value: JSON)] = []
    if let v = u.promptTokens { usage.append(("prompt_tokens", .int(v))) }
    if let v = u.completionTokens { usage.append(("completion_tokens", .int(v))) }
    if let v = u.totalTokens { usage.append(("total_tokens", .int(v))) }
    if let v = u.reasoningTokens { usage.append(("reasoning_tokens", .int(v))) }
    if let v = u.cachedTokens { usage.append(("cached_tokens", .int(v))) }
    if let v = u.cost { usage.append(("cost", .double(v))) }
    if u.costIsEstimated { usage.append(("cost_estimated", true)) }
    return .object(JSONObject(distinct: usage))
  }

  /// A usage object read back; nil when it is not an object.
  package static func usage(_ u: JSON) -> Completion.Usage? {
    guard u.objectValue != nil else { return nil }
    func int(_ v: JSON?) -> Int? {
      switch v {
      case .int(let i)?: return i
      case .double(let d)?: return Int(exactly: d)
      default: return nil
      }
    }
    return Completion.Usage(
      promptTokens: int(u["prompt_tokens"]), completionTokens: int(u["completion_tokens"]),
      totalTokens: int(u["total_tokens"]), reasoningTokens: int(u["reasoning_tokens"]),
      cachedTokens: int(u["cached_tokens"]), cost: u["cost"]?.numberValue,
      costIsEstimated: u["cost_estimated"] == .bool(true))
  }
}
