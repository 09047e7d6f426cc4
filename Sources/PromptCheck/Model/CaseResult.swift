import Foundation

public enum CaseStatus: String, Sendable {
  case passed, failed, errored, skipped
}

/// Where a case's completion came from, and what happened to its cassette.
public struct CassetteReport: Sendable, Equatable {
  public enum Status: String, Sendable {
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

  public var path: String
  public var status: Status
}

/// A golden comparison (README "Goldens").
public struct GoldenReport: Sendable, Equatable {
  public enum Status: String, Sendable {
    case none, matched, missing, changed, updated
  }

  public var status: Status
  public var path: String?
  /// Unified diff from the golden to the new output.
  public var diff: String?
}

/// Everything known about one finished case.
public struct CaseResult: Sendable {
  public var plannedCase: PlannedCase
  public var status: CaseStatus
  /// Every assertion's finding, in order.
  public var findings: [Finding]
  /// Why the case could not run (errored), or the skip reason.
  public var error: String?
  public var completion: Completion?
  /// Wall time of the case (for a replay: the replay, not the recorded call).
  public var durationMS: Int
  /// HTTP attempts made (0 for a replay).
  public var attempts: Int
  /// A failed repetition of a test whose `min_pass_rate` was met anyway.
  public var tolerated = false
  public var cassette: CassetteReport
  public var golden: GoldenReport
  /// Things worth saying that are not failures (backend drift, pending golden written…).
  public var notes: [String] = []

  public var failedFindings: [Finding] { findings.filter { !$0.passed } }
}
