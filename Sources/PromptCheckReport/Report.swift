import Foundation
import PromptCheckCore

/// What the report writers need of a run: its head and its cases. Built from a finished run,
/// or read back from JSON reports (`merge` combines shards this way). The head's fields read and
/// set as the report's own (`report.groups`).
@dynamicMemberLookup
package struct Report: Sendable {
  /// What the report says beside its cases.
  package var head: ReportHead
  /// In plan order (the order of an unsharded run).
  package var cases: [ReportCase]

  package init(startedAt: Date, durationMS: Int, mode: String, cases: [ReportCase]) {
    self.init(ReportHead(startedAt: startedAt, durationMS: durationMS, mode: mode), cases: cases)
  }

  package init(_ head: ReportHead, cases: [ReportCase]) {
    self.head = head
    self.cases = cases
  }

  package subscript<T>(dynamicMember field: WritableKeyPath<ReportHead, T>) -> T {
    get { head[keyPath: field] }
    set { head[keyPath: field] = newValue }
  }

  /// The counts and totals of the cases, and the ones a summary lists.
  package var totals: ReportTotals { ReportTotals(cases) }
}

/// A report's run-wide facts, known once the run ends (its cases are streamed before).
package struct ReportHead: Sendable {
  package var startedAt: Date
  package var durationMS: Int
  package var mode: String
  /// Every repeated test's figures, in plan order.
  package var groups: [RepeatGroup] = []
  package var budget: BudgetReport?
  package var plan: PlanFingerprint?
  /// What live calls sent and how the providers' rate limits held them back.
  package var requests: RateLimitStats?

  package init(
    startedAt: Date, durationMS: Int, mode: String, groups: [RepeatGroup] = [], budget: BudgetReport? = nil,
    plan: PlanFingerprint? = nil
  ) {
    self.startedAt = startedAt
    self.durationMS = durationMS
    self.mode = mode
    self.groups = groups
    self.budget = budget
    self.plan = plan
  }

  /// Repeated tests with mixed results.
  package var flaky: [RepeatGroup] { groups.filter(\.flaky) }
}

/// `--max-cost` as a run ended.
package struct BudgetReport: Sendable, Equatable {
  package var limit: Double
  package var spent: Double
  /// Cases whose call was not sent because it did not fit.
  package var notSent: Int

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(limit: Double, spent: Double, notSent: Int) {
    self.limit = limit
    self.spent = spent
    self.notSent = notSent
  }
}

extension RunSummary {
  /// What a report says of the whole run.
  package var head: ReportHead {
    ReportHead(startedAt: startedAt, durationMS: durationMS, mode: mode.rawValue, groups: groups)
  }
}
