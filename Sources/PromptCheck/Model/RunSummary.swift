import Foundation

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

  /// Exit status of README "Commands": 1 behaviour changed, 3 infrastructure broke, 0 all good.
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
