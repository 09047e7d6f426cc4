import Foundation

/// A run, as the reporters see it: a stream of events.
package enum RunEvent: Sendable {
  case runStarted(RunStart)
  case caseStarted(PlannedCase)
  case caseFinished(CaseResult, completed: Int, total: Int)
  case runFinished(RunSummary)
}

package struct RunStart: Sendable {
  package var startedAt: Date
  package var caseCount: Int
  package var mode: RunMode
}

/// A consumer of run events (terminal, JUnit, JSON, HTML writers).
package protocol RunReporter: AnyObject {
  func handle(_ event: RunEvent)
}
