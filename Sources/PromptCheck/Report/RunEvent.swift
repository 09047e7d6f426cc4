import Foundation

/// A run, as the reporters see it: a stream of events.
public enum RunEvent: Sendable {
  case runStarted(RunStart)
  case caseStarted(PlannedCase)
  case caseFinished(CaseResult, completed: Int, total: Int)
  case runFinished(RunSummary)
}

public struct RunStart: Sendable {
  public var startedAt: Date
  public var caseCount: Int
  public var mode: RunMode
}

/// Cassette modes (spec §7).
public enum RunMode: String, Sendable, CaseIterable {
  case replay, record, auto, live
}

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

/// A golden comparison (spec §8).
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

public struct RunSummary: Sendable {
  public var startedAt: Date
  public var durationMS: Int
  public var mode: RunMode
  /// In plan order.
  public var results: [CaseResult]

  public var passed: Int { results.count { $0.status == .passed } }
  /// Failures that count (tolerated repetitions excluded).
  public var failed: Int { results.count { $0.status == .failed && !$0.tolerated } }
  public var tolerated: Int { results.count { $0.tolerated } }
  public var errored: Int { results.count { $0.status == .errored } }
  public var skipped: Int { results.count { $0.status == .skipped } }

  /// Exit status of spec §1: 1 behaviour changed, 3 infrastructure broke, 0 all good.
  /// `minPassRate` below 1 lets the run pass when at least that fraction of the
  /// cases that ran (not skipped) passed.
  public func exitCode(minPassRate: Double = 1) -> Int32 {
    if minPassRate < 1 {
      let ran = results.count { $0.status != .skipped }
      let ok = results.count { $0.status == .passed || $0.tolerated }
      if ran == 0 || Double(ok) / Double(ran) >= minPassRate { return 0 }
    }
    if failed > 0 { return 1 }
    if errored > 0 { return 3 }
    return 0
  }

  /// Marks failed repetitions as tolerated where their group met its `min_pass_rate`.
  static func applyPassRates(_ results: inout [CaseResult]) {
    var groups: [String: [Int]] = [:]
    for (i, r) in results.enumerated() where r.plannedCase.minPassRate != nil {
      groups[r.plannedCase.groupID, default: []].append(i)
    }
    for (_, members) in groups {
      guard let rate = results[members[0]].plannedCase.minPassRate else { continue }
      let passed = members.count { results[$0].status == .passed }
      let ran = members.count { results[$0].status != .skipped }
      guard ran > 0, Double(passed) / Double(ran) >= rate else { continue }
      for i in members where results[i].status == .failed {
        results[i].tolerated = true
        results[i].notes.append("tolerated: \(passed) of \(ran) repetitions passed, min_pass_rate is \(NumberText.format(rate))")
      }
    }
  }
}

/// A consumer of run events (terminal, JUnit, JSON, HTML writers).
public protocol RunReporter: AnyObject {
  func handle(_ event: RunEvent)
}
