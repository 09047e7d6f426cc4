import Foundation

package enum CaseStatus: String, Sendable {
  case passed, failed, errored, skipped
}

/// How a case ended, with the reason where there is one.
package enum CaseOutcome: Sendable, Equatable {
  case passed
  case failed
  /// It could not run: the cause (no cassette, the server's error, a file not written…).
  case errored(String)
  /// The test's `skip` reason.
  case skipped(String)

  package var status: CaseStatus {
    switch self {
    case .passed: .passed
    case .failed: .failed
    case .errored: .errored
    case .skipped: .skipped
    }
  }

  /// Why it errored, or why it was skipped.
  package var reason: String? {
    switch self {
    case .errored(let r), .skipped(let r): r
    case .passed, .failed: nil
    }
  }
}

/// Where a case's completion came from, and what happened to its cassette.
package struct CassetteReport: Sendable, Equatable {
  package enum Status: String, Sendable {
    /// Replayed from the cassette.
    case replayed
    /// Called the API and wrote the cassette.
    case recorded
    /// Called the API, recorded again, and the cassette did not change.
    case unchanged
    /// Called the API, wrote nothing (live mode).
    case live
    /// No cassette, and none could be recorded.
    case missing
    /// A cassette exists but does not match the request.
    case stale
    /// Nothing was attempted (skipped case, or it errored before).
    case none
  }

  package var path: String
  package var status: Status

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(path: String, status: Status) {
    self.path = path
    self.status = status
  }
}

/// A golden comparison (README "Goldens").
package struct GoldenReport: Sendable, Equatable {
  package enum Status: String, Sendable {
    case none, matched, missing, changed, updated
  }

  package var status: Status
  package var path: String?
  /// Unified diff from the golden to the new output.
  package var diff: String?

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(status: Status, path: String? = nil, diff: String? = nil) {
    self.status = status
    self.path = path
    self.diff = diff
  }
}

/// Everything known about one finished case.
package struct CaseResult: Sendable {
  package var plannedCase: PlannedCase
  package var outcome: CaseOutcome
  /// Every assertion's finding, in order.
  package var findings: [Finding]
  /// What the case did, in order (README "Steps"): one model step for a single request.
  package var steps: [Step]
  /// Wall time of the case (for a replay: the replay, not the recorded call).
  package var durationMS: Int
  /// HTTP attempts made (0 for a replay).
  package var attempts: Int
  /// A failed repetition of a test whose `min_pass_rate` was met anyway.
  package var tolerated = false
  package var cassette: CassetteReport
  package var golden: GoldenReport
  /// Things worth saying that are not failures (backend drift, pending golden written…).
  package var notes: [String] = []
  /// A repetition's golden subject whose write was deferred to the end of the run (not reported).
  package var goldenText: String?
  /// Re-recorded with a different answer: the unified diff from the old answer to the new.
  package var recordedChange: String?
  /// The weighted score of a test with a `threshold:` (README "Weights and threshold").
  package var score: Double?
  /// A conversation case's first user message and how it ended (README "Conversations").
  package var conversation: ConversationFacts?

  /// The answer the ordinary assertions check: the last step's that answered. Setting it
  /// replaces that answer, or adds a model step when no step answered yet.
  package var completion: Completion? {
    get { steps.finalAnswerIndex.flatMap { steps[$0].completion } }
    set {
      if let i = steps.finalAnswerIndex {
        steps[i].completion = newValue
      } else if let newValue {
        steps.append(.model(newValue))
      }
    }
  }

  /// The judges' tokens and cost over every step (grader and embeddings calls; as recorded when
  /// replayed). Setting it attaches them to the step whose answer they judged, the final one.
  package var judgeUsage: Completion.Usage? {
    get { steps.compactMap(\.judgeUsage).reduce(nil) { sum, u in sum.map { $0.adding(u) } ?? u } }
    set {
      if let i = steps.finalAnswerIndex { steps[i].judgeUsage = newValue }
    }
  }

  package var status: CaseStatus { outcome.status }
  /// Why the case could not run (errored), or the skip reason.
  package var error: String? { outcome.reason }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(
    plannedCase: PlannedCase, outcome: CaseOutcome, findings: [Finding], completion: Completion? = nil, durationMS: Int,
    attempts: Int, cassette: CassetteReport, golden: GoldenReport, notes: [String] = [], goldenText: String? = nil,
    recordedChange: String? = nil, judgeUsage: Completion.Usage? = nil, score: Double? = nil
  ) {
    self.plannedCase = plannedCase
    self.outcome = outcome
    self.findings = findings
    self.steps = completion.map { [.model($0)] } ?? []
    self.durationMS = durationMS
    self.attempts = attempts
    self.cassette = cassette
    self.golden = golden
    self.notes = notes
    self.goldenText = goldenText
    self.recordedChange = recordedChange
    if judgeUsage != nil { self.judgeUsage = judgeUsage }
    self.score = score
  }
}
