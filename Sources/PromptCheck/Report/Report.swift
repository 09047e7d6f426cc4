import Foundation

/// What the report writers need of a run. Built from a finished run, or read
/// back from JSON reports (`merge` combines shards this way).
package struct Report: Sendable {
  package var startedAt: Date
  package var durationMS: Int
  package var mode: String
  /// In plan order (the order of an unsharded run).
  package var cases: [ReportCase]
  /// Every repeated test's figures, in plan order.
  package var groups: [RepeatGroup] = []
  /// `--max-cost` on a run that could call: what it allowed, spent, and held back.
  package var budget: BudgetReport?

  /// The plan this run was (a shard of), for `merge`.
  package var plan: PlanFingerprint?

  package init(startedAt: Date, durationMS: Int, mode: String, cases: [ReportCase]) {
    self.startedAt = startedAt
    self.durationMS = durationMS
    self.mode = mode
    self.cases = cases
  }

  package init(_ head: ReportHead, cases: [ReportCase]) {
    self.init(startedAt: head.startedAt, durationMS: head.durationMS, mode: head.mode, cases: cases)
    groups = head.groups
    budget = head.budget
    plan = head.plan
  }

  /// What the report says beside its cases.
  package var head: ReportHead {
    ReportHead(startedAt: startedAt, durationMS: durationMS, mode: mode, groups: groups, budget: budget, plan: plan)
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
}
