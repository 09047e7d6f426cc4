import Foundation
import PromptCheckCore
import Synchronization

/// Produces the completion for a case and its judges' answers: over the network, or from a
/// cassette. Nothing is written until `finish`, so a cassette holds a case's main call and its
/// judge calls together, written once.
package protocol CompletionSource: Sendable {
  func fetch(_ c: PlannedCase) async -> FetchResult
  /// One grader or embeddings call of the case (README "Recorded judges").
  func judge(_ call: JudgeCall, for c: PlannedCase, fetched: FetchResult) async -> Result<JudgeAnswer, CallError>
  /// Writes what the case recorded; an error when it could not be written.
  func finish(_ c: PlannedCase, fetched: inout FetchResult, judges: [Cassette.JudgeRecord]) -> CallError?
  /// A looped case's model call after its first (README "Agents: tool loops"): step `number`
  /// (1-based, tool steps counted), replayed or called as the mode says, and kept in `fetched`;
  /// `turn` names a conversation's turn in its messages.
  func fetchStep(_ c: PlannedCase, number: Int, request: ChatRequest, turn: Int?, fetched: inout FetchResult) async
    -> Result<Completion, CallError>
  /// A conversation's user turn at step `number` (README "Conversations"): a scripted message
  /// kept, or the simulated user's call (`simulator`) replayed or made.
  func userTurn(
    _ c: PlannedCase, number: Int, turn: Int, scripted: String?, simulator: ChatRequest?, fetched: inout FetchResult
  ) async -> Result<(text: String, answer: Completion?), CallError>
  /// The request body the case's cassette recorded for its first call, where the mode replays
  /// (a looped case takes its MCP servers' tool lists from it, with no server running).
  func recordedRequestBody(_ c: PlannedCase) -> JSON?
}

extension CompletionSource {
  package func recordedRequestBody(_ c: PlannedCase) -> JSON? { nil }

  /// The tools the cassette's first request offered beside `own` (an MCP server's, in a replay
  /// or a plan that starts none).
  package func recordedTools(_ c: PlannedCase, besides own: [JSON]) -> [JSON] {
    let names = Set(own.compactMap { $0["function"]?["name"]?.stringValue })
    return (recordedRequestBody(c)?["tools"]?.arrayValue ?? []).filter {
      guard let name = $0["function"]?["name"]?.stringValue else { return false }
      return !names.contains(name)
    }
  }

  package func fetchStep(_ c: PlannedCase, number: Int, request: ChatRequest, turn: Int?, fetched: inout FetchResult)
    async -> Result<Completion, CallError>
  {
    .failure(CallError(.noCassette, "step \(number): this source answers only a case's first call"))
  }

  package func userTurn(
    _ c: PlannedCase, number: Int, turn: Int, scripted: String?, simulator: ChatRequest?, fetched: inout FetchResult
  ) async -> Result<(text: String, answer: Completion?), CallError> {
    .failure(CallError(.noCassette, "step \(number): this source answers only a case's first call"))
  }
}

/// A judge call's answer, replayed or live.
package struct JudgeAnswer: Sendable {
  package var record: Cassette.JudgeRecord
  package var replayed: Bool
}

package struct FetchResult: Sendable {
  package var result: Result<Completion, CallError>
  package var attempts: Int
  package var cassette: CassetteReport
  package var notes: [String] = []
  /// Re-recorded with a different answer: the diff from the old answer to the new.
  package var recordedChange: String?
  /// The readable cassette on disk, for judge calls to replay from.
  package var onDisk: Cassette?
  /// A new recording of the main call, written by `finish` with its judges.
  package var toRecord: Cassette?
  /// A looped case: whether its later model calls are made (live, record, or `auto` from the
  /// first step that differs) rather than replayed.
  package var calling = false
  /// A looped case's steps after the first, as its cassette holds them (every mode keeps them:
  /// `auto` re-recording from step k keeps the ones before it).
  package var stepRecords: [Cassette.StepRecord] = []

  package init(
    result: Result<Completion, CallError>, attempts: Int, cassette: CassetteReport, notes: [String] = [],
    recordedChange: String? = nil
  ) {
    self.result = result
    self.attempts = attempts
    self.cassette = cassette
    self.notes = notes
    self.recordedChange = recordedChange
  }
}

extension FetchResult {
  /// A step that does not replay: stale (the error to return), or in `auto` the point from which
  /// the case records again, the steps before it kept (nil: the case goes on calling).
  package mutating func reRecord(_ c: PlannedCase, from at: String, why: String, mode: RunMode, display: String)
    -> CallError?
  {
    guard mode == .auto, let onDisk else {
      return CallError(
        .staleCassette, CassetteSource.withCommand(CassetteSource.staleMessage("\(at): \(why)", display), c))
    }
    calling = true
    var cassette = toRecord ?? onDisk
    cassette.recordedAt = Cassette.timestamp(Date())
    toRecord = cassette
    self.cassette = CassetteReport(path: display, status: .recorded)
    notes.append("re-recorded from \(at): \(why)")
    return nil
  }

  /// Keeps a step that no call made (a tool's result) for the cassette.
  package mutating func keep(_ step: Step) { stepRecords.append(Cassette.StepRecord(step)) }
}

extension FetchResult {
  /// The step the cassette on disk records at `number` (1-based; step 1 is its root call).
  package func recorded(step number: Int) -> Cassette.StepRecord? {
    guard let steps = onDisk?.steps, number >= 2, number - 2 < steps.count else { return nil }
    return steps[number - 2]
  }
}
