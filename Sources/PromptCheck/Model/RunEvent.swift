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

/// A consumer of run events (terminal, JUnit, JSON, HTML writers).
public protocol RunReporter: AnyObject {
  func handle(_ event: RunEvent)
}
