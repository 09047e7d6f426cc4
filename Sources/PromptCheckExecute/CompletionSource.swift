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
