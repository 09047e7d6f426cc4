import Foundation

public struct RunSummary: Sendable {
  public var startedAt: Date
  public var durationMS: Int
  public var mode: RunMode
  /// In plan order.
  public var results: [CaseResult]

  public var tally: Tally { Tally(results.lazy.map { ($0.status, $0.tolerated) }) }
  public var passed: Int { tally.passed }
  public var failed: Int { tally.failed }
  public var tolerated: Int { tally.tolerated }
  public var errored: Int { tally.errored }
  public var skipped: Int { tally.skipped }

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
        results[i].notes.append(
          "tolerated: \(passed) of \(ran) repetitions passed, min_pass_rate is \(NumberText.format(rate))")
      }
    }
  }
}
