import Foundation

/// A run, as the reporters see it: a stream of events.
package enum RunEvent: Sendable {
  case runStarted(RunStart)
  case caseStarted(PlannedCase)
  /// A case as it finishes (the progress): a repetition's `tolerated` is not known yet.
  case caseFinished(CaseResult, completed: Int, total: Int)
  /// A case as the reports show it, in plan order, once its repeat group (if any) is settled;
  /// nothing of it is kept after this event but what reporters keep.
  case caseReported(ReportCase)
  case runFinished(RunSummary)
}

package struct RunStart: Sendable {
  package var startedAt: Date
  package var caseCount: Int
  package var mode: RunMode

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(startedAt: Date, caseCount: Int, mode: RunMode) {
    self.startedAt = startedAt
    self.caseCount = caseCount
    self.mode = mode
  }
}

/// A consumer of run events (terminal, JUnit, JSON, HTML writers).
package protocol RunReporter: AnyObject {
  func handle(_ event: RunEvent)
}
