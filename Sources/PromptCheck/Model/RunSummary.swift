import Foundation

package struct RunSummary: Sendable {
  package var startedAt: Date
  package var durationMS: Int
  package var mode: RunMode
  /// In plan order.
  package var results: [CaseResult]

  package var tally: Tally { Tally(results.lazy.map { ($0.status, $0.tolerated) }) }

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
