import Foundation
import PromptCheckCore

/// A looped case's model calls after its first (README "Agents: tool loops"): replayed from the
/// cassette's steps while they match, called (and kept for the cassette) otherwise, as the mode says.
extension CassetteSource {
  package func recordedRequestBody(_ c: PlannedCase) -> JSON? {
    guard mode == .replay || mode == .auto, case .found(let cassette) = store.load(c) else { return nil }
    return cassette.requestBody
  }

  package func fetchStep(
    _ c: PlannedCase, number: Int, request: ChatRequest, turn: Int?, fetched: inout FetchResult
  ) async -> Result<Completion, CallError> {
    let at = "step \(number)" + (turn.map { " (turn \($0))" } ?? "")
    if !fetched.calling {
      let recorded = fetched.recorded(step: number)
      let why: String
      if let recorded {
        if let diff = Self.mismatch(recorded, request, redactor: redactor) {
          why = diff
        } else {
          switch recorded.step() {
          case .success(let step):
            fetched.stepRecords.append(recorded)
            if let completion = step.completion { return .success(completion) }
            why = "recorded a \(recorded.kind.rawValue) step, now a model call"
          case .failure(let e):
            return .failure(
              CallError(e.kind, "\(store.displayPath(c)): step \(number): \(e.message)", status: e.status))
          }
        }
      } else {
        why = Self.notRecorded(fetched)
      }
      if let refused = fetched.reRecord(c, from: at, why: why, mode: mode, display: store.displayPath(c)) {
        return .failure(refused)
      }
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
      named.message = "\(at): " + e.message
      return named
    }
  }

  /// Why a step past the cassette's end does not replay.
  static func notRecorded(_ fetched: FetchResult) -> String {
    "it is not recorded (the cassette ends at step \((fetched.onDisk?.steps.count ?? 0) + 1))"
  }

  /// A conversation's user turn (README "Conversations"): a scripted message, or the simulated
  /// user's (`simulator` is its call). Replayed while the cassette's user step matches (the same
  /// message; the same simulator request), called or kept for the cassette otherwise.
  package func userTurn(
    _ c: PlannedCase, number: Int, turn: Int, scripted: String?, simulator: ChatRequest?, fetched: inout FetchResult
  ) async -> Result<(text: String, answer: Completion?), CallError> {
    let at = "step \(number) (turn \(turn)'s user message)"
    if !fetched.calling {
      let why: String
      if let recorded = fetched.recorded(step: number) {
        let content = recorded.response["content"]?.stringValue ?? ""
        if recorded.kind != .user {
          why = "recorded a \(recorded.kind.rawValue) step, now a user turn"
        } else if let scripted {
          if content == redactor(scripted) {
            fetched.stepRecords.append(recorded)
            return .success((scripted, nil))
          }
          why =
            "the user's message changed: recorded \(Excerpt.start(content)), now \(Excerpt.start(redactor(scripted)))"
        } else if let simulator {
          let body = recorded.request["body"] ?? .null
          let now = redactor(simulator.body)
          if body == now || body.canonicalized == now.canonicalized {
            fetched.stepRecords.append(recorded)
            let answer = recorded.response["body"].map { Completion(response: $0, latencyMS: recorded.durationMS) }
            return .success((content, answer))
          }
          why =
            "the simulated user's call differs: "
            + (Cassette.firstDifference(body.canonicalized, now.canonicalized, path: "body") ?? "body")
        } else {
          why = "no user message"
        }
      } else {
        why = Self.notRecorded(fetched)
      }
      if let refused = fetched.reRecord(c, from: at, why: why, mode: mode, display: store.displayPath(c)) {
        return .failure(refused)
      }
    }
    guard let simulator else {
      let text = scripted ?? ""
      fetched.stepRecords.append(
        Cassette.StepRecord(kind: .user, durationMS: 0, request: [:], response: ["content": .string(redactor(text))]))
      return .success((text, nil))
    }
    guard let client else {
      return .failure(CallError(.noCassette, "no client to call the API in \(mode.rawValue) mode"))
    }
    let (outcome, completion) = await callLive(simulator, client: client, budget: budget)
    guard let outcome, case .success(let exchange) = outcome.result, case .success(let answer) = completion else {
      if case .failure(var e) = completion {
        e.message = "\(at): the simulated user's call failed: " + e.message
        return .failure(e)
      }
      return .failure(CallError(.badBody, "\(at): the simulated user made no call"))
    }
    fetched.attempts += outcome.attempts
    fetched.stepRecords.append(
      Cassette.StepRecord(
        kind: .user, durationMS: answer.latencyMS,
        request: ["method": .string(exchange.method), "url": .string(exchange.url), "body": exchange.requestBody],
        response: [
          "status": .int(exchange.status), "body": exchange.decoded.body, "content": .string(redactor(answer.content)),
        ]))
    return .success((answer.content, answer))
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
