import Foundation
import Testing

@testable import PromptCheckCore
@testable import PromptCheckExecute
@testable import PromptCheckPlan

/// The one point an answer enters the run: whatever a source returns has no secret past it.
@Suite struct RedactingSourceTests {
  static let key = "sk-test-0123456789"

  /// A source that echoes the key in everything it returns.
  struct Leaky: CompletionSource {
    var fails = false
    func fetch(_ c: PlannedCase) async -> FetchResult {
      let answer = Completion(
        content: "your key is \(key)", reasoning: "I saw \(key)",
        toolCalls: [Completion.ToolCall(id: "c", name: "f", arguments: #"{"k":"\#(key)"}"#)],
        response: ["echo": .string(key)])
      return FetchResult(
        result: fails ? .failure(CallError(.http, "HTTP 401: bad key \(key)")) : .success(answer), attempts: 1,
        cassette: CassetteReport(path: "p", status: .live), notes: ["backend said \(key)"],
        recordedChange: "-old\n+\(key)\n")
    }
    func judge(_ call: JudgeCall, for c: PlannedCase, fetched: FetchResult) async -> Result<JudgeAnswer, CallError> {
      if fails { return .failure(CallError(.http, "judge refused \(key)")) }
      return .success(
        JudgeAnswer(
          record: Cassette.JudgeRecord(
            assertion: "a", url: "u", requestBody: [:], status: 200, body: ["said": .string(key)], durationMS: 1),
          replayed: false))
    }
    func finish(_ c: PlannedCase, fetched: inout FetchResult, judges: [Cassette.JudgeRecord]) -> CallError? {
      CallError(.cassetteNotWritten, "could not write \(key)")
    }
  }

  func plannedCase() throws -> PlannedCase {
    let t = try loadTest("tests:\n  - name: t\n    prompt: x\n")
    return Planner.plan([Suite(name: "s", file: "s.yaml", tests: [t])], PlanOptions())[0]
  }

  @Test func everythingASourceReturnsIsRedacted() async throws {
    let c = try plannedCase()
    let call = JudgeCall(key: "k", label: "a", work: .embeddings([]))
    for fails in [false, true] {
      let source = RedactingSource(Leaky(fails: fails), redactor: Redactor(secrets: [Self.key]))
      var f = await source.fetch(c)
      var seen = f.notes + [f.recordedChange ?? ""]
      switch f.result {
      case .success(let a): seen += [a.content, a.reasoning, a.toolCalls[0].arguments, a.response.serialized()]
      case .failure(let e): seen.append(e.message)
      }
      switch await source.judge(call, for: c, fetched: f) {
      case .success(let a): seen.append(a.record.body.serialized())
      case .failure(let e): seen.append(e.message)
      }
      seen.append(source.finish(c, fetched: &f, judges: [])?.message ?? "")
      #expect(seen.count == (fails ? 5 : 8))
      for text in seen {
        #expect(!text.contains(Self.key), "\(text)")
        #expect(text.contains("<redacted>"), "\(text)")
      }
    }
  }
}
