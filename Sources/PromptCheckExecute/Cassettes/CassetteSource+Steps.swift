import Foundation
import PromptCheckCore

/// A looped case's model calls after its first (README "Agents: tool loops"): replayed from the
/// cassette's steps while they match, called (and kept for the cassette) otherwise, as the mode says.
extension CassetteSource {
  package func recordedRequestBody(_ c: PlannedCase) -> JSON? {
    guard mode == .replay || mode == .auto, case .found(let cassette) = store.load(c) else { return nil }
    return cassette.requestBody
  }

  package func fetchStep(_ c: PlannedCase, number: Int, request: ChatRequest, fetched: inout FetchResult) async
    -> Result<Completion, CallError>
  {
    if !fetched.calling {
      let display = store.displayPath(c)
      let recorded = fetched.onDisk.flatMap { number - 2 < $0.steps.count ? $0.steps[number - 2] : nil }
      let why: String
      if let recorded {
        if let diff = Self.mismatch(recorded, request, redactor: redactor) {
          why = "step \(number): " + diff
        } else {
          switch recorded.step() {
          case .success(let step):
            fetched.stepRecords.append(recorded)
            if let completion = step.completion { return .success(completion) }
            why = "step \(number): recorded a \(recorded.kind.rawValue) step, now a model call"
          case .failure(let e):
            return .failure(CallError(e.kind, "\(display): step \(number): \(e.message)", status: e.status))
          }
        }
      } else {
        why = "step \(number) is not recorded (the cassette ends at step \((fetched.onDisk?.steps.count ?? 0) + 1))"
      }
      guard mode == .auto, let onDisk = fetched.onDisk else {
        return .failure(CallError(.staleCassette, Self.withCommand(Self.staleMessage(why, display), c)))
      }
      // `auto` keeps the steps before this one and records from here.
      fetched.calling = true
      var cassette = fetched.toRecord ?? onDisk
      cassette.recordedAt = Cassette.timestamp(Date())
      fetched.toRecord = cassette
      fetched.cassette = CassetteReport(path: display, status: .recorded)
      fetched.notes.append("re-recorded from step \(number): \(why.dropFirst("step \(number): ".count))")
    }
    guard let client else {
      return .failure(CallError(.noCassette, "no client to call the API in \(mode.rawValue) mode"))
    }
    let (outcome, completion) = await callLive(request, client: client, budget: budget)
    if let outcome, case .success(let exchange) = outcome.result, case .success(let answer) = completion {
      fetched.attempts += outcome.attempts
      let step = Step(kind: .model, request: request.body, answer: .completion(answer), durationMS: answer.latencyMS)
      fetched.stepRecords.append(Cassette.StepRecord(step, exchange: exchange))
    }
    // A failed call (a refused budget, a server error) names its step.
    return completion.mapError { e in
      var named = e
      named.message = "step \(number): " + e.message
      return named
    }
  }

  /// Nil when the recorded step answers this request (URL path and canonical body, as for the
  /// first call); otherwise the first differing field, with a hint when it is a tool's result.
  static func mismatch(_ recorded: Cassette.StepRecord, _ request: ChatRequest, redactor: Redactor) -> String? {
    guard recorded.kind == .model || recorded.kind == .app else {
      return "recorded a \(recorded.kind.rawValue) step, now a model call"
    }
    let recordedPath = URLParts.path(of: recorded.request["url"]?.stringValue ?? "")
    let path = redactor(request.urlPath)
    if recordedPath != path { return "url path: recorded \(recordedPath), now \(path)" }
    let body = recorded.request["body"] ?? .null
    let now = redactor(request.body)
    if body == now { return nil }
    let diff = Cassette.firstDifference(body.canonicalized, now.canonicalized, path: "body") ?? "body"
    return diff + toolHint(diff, messages: now["messages"]?.arrayValue ?? [])
  }

  /// ` — the get_order mock's result changed` when the first difference is in a tool message.
  static func toolHint(_ diff: String, messages: [JSON]) -> String {
    guard diff.hasPrefix("body.messages["), let close = diff.firstIndex(of: "]"),
      let i = Int(diff[diff.index(diff.startIndex, offsetBy: "body.messages[".count)..<close]), i < messages.count,
      messages[i]["role"]?.stringValue == "tool", let id = messages[i]["tool_call_id"]?.stringValue
    else { return "" }
    for m in messages[..<i].reversed() {
      for call in m["tool_calls"]?.arrayValue ?? [] where call["id"]?.stringValue == id {
        return " — the result of \(call["function"]?["name"]?.stringValue ?? "the tool") changed"
      }
    }
    return ""
  }
}
