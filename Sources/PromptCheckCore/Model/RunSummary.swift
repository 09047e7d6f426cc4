import Foundation

/// A finished run: its cases went to the reporters one by one (`RunEvent.caseReported`).
package struct RunSummary: Sendable {
  package var startedAt: Date
  package var durationMS: Int
  package var mode: RunMode
  /// Every repeated test's figures, in plan order.
  package var groups: [RepeatGroup] = []
  /// The reported cases' counts and totals, and the ones a summary lists.
  package var totals = ReportTotals()

  package init(
    startedAt: Date, durationMS: Int, mode: RunMode, groups: [RepeatGroup] = [], totals: ReportTotals = ReportTotals()
  ) {
    self.startedAt = startedAt
    self.durationMS = durationMS
    self.mode = mode
    self.groups = groups
    self.totals = totals
  }

  package var tally: Tally { totals.tally }
}
