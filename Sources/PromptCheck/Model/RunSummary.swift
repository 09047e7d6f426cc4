import Foundation

package struct RunSummary: Sendable {
  package var startedAt: Date
  package var durationMS: Int
  package var mode: RunMode
  /// In plan order.
  package var results: [CaseResult]
  /// Every repeated test's figures, in plan order.
  package var groups: [RepeatGroup] = []

  package var tally: Tally { Tally(results.lazy.map { ($0.status, $0.tolerated) }) }
}
