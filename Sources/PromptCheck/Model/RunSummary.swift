import Foundation

/// A finished run: its cases went to the reporters one by one (`RunEvent.caseReported`).
package struct RunSummary: Sendable {
  package var startedAt: Date
  package var durationMS: Int
  package var mode: RunMode
  /// Every repeated test's figures, in plan order.
  package var groups: [RepeatGroup] = []
  package var tally = Tally()

  package init(startedAt: Date, durationMS: Int, mode: RunMode, groups: [RepeatGroup] = [], tally: Tally = Tally()) {
    self.startedAt = startedAt
    self.durationMS = durationMS
    self.mode = mode
    self.groups = groups
    self.tally = tally
  }

  package var head: ReportHead {
    ReportHead(startedAt: startedAt, durationMS: durationMS, mode: mode.rawValue, groups: groups)
  }
}
