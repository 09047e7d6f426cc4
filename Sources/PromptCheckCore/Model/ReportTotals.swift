import Foundation

/// A report's counts and totals, gathered case by case as a run streams (or over a report read
/// back), with the few cases a summary lists in full: the failed and errored ones, and the
/// answers that changed on re-recording. Passing cases leave nothing here but their numbers.
package struct ReportTotals: Sendable {
  package private(set) var count = 0
  package private(set) var tally = Tally()
  /// The tokens and cost of every case, added up (for a replay: of the recorded answers).
  package private(set) var usage = UsageTotals()
  /// No case with usage came from a live call (the terminal says "as recorded").
  package private(set) var usageAsRecorded = true
  /// Failed (not tolerated) and errored cases, in plan order.
  package private(set) var problems: [ReportCase] = []
  /// Cases whose answer changed on re-recording, in plan order.
  package private(set) var changed: [ReportCase] = []
  /// Cases recorded live (`recorded` cassettes), in plan order.
  package private(set) var recordedIDs: [String] = []
  /// Cases with notes, in plan order.
  package private(set) var noted: [(id: String, notes: [String])] = []
  /// `metric:` labels in order of first appearance, with their assertions passed and counted.
  package private(set) var metrics: [(name: String, passed: Int, total: Int)] = []
  /// Every target or prompt version seen, in order of first appearance, and its sums.
  private var columnOrder: [String] = []
  private var sums: [String: TargetSums] = [:]

  /// Per target: what `by_target`, the terminal's table and the HTML view show.
  package struct TargetFigures: Sendable {
    package var target: String
    package var tally: Tally
    package var meanLatencyMS: Int?
    package var usage: UsageTotals
  }

  struct TargetSums {
    var tally = Tally()
    var latencyMS = 0
    var latencies = 0
    var usage = UsageTotals()
  }

  package init() {}

  package init<S: Sequence<ReportCase>>(_ cases: S) {
    for c in cases { add(c) }
  }

  package mutating func add(_ c: ReportCase) {
    count += 1
    tally.add(c.status, tolerated: c.tolerated)
    for u in c.allUsage { usage.add(u) }
    if c.usage != nil && c.cassette.status != .replayed { usageAsRecorded = false }
    if c.isProblem { problems.append(c) }
    if c.recordedChange != nil { changed.append(c) }
    if c.cassette.status == .recorded { recordedIDs.append(c.id) }
    if !c.notes.isEmpty { noted.append((c.id, c.notes)) }
    for a in c.assertions {
      guard let m = a.metric else { continue }
      if let i = metrics.firstIndex(where: { $0.name == m }) {
        metrics[i].total += 1
        if a.passed { metrics[i].passed += 1 }
      } else {
        metrics.append((m, a.passed ? 1 : 0, 1))
      }
    }
    if let col = c.column {
      if sums[col] == nil { columnOrder.append(col) }
      sums[col, default: TargetSums()].add(c)
    }
  }

  /// The targets (and prompt versions) the run compares, in order; empty when it compares none.
  package var columns: [String] { columnOrder.count > 1 ? columnOrder : [] }

  /// Per target, when the run compares targets.
  package var byTarget: [TargetFigures] {
    columns.map { col in
      let s = sums[col] ?? TargetSums()
      return TargetFigures(
        target: col, tally: s.tally, meanLatencyMS: s.latencies == 0 ? nil : s.latencyMS / s.latencies, usage: s.usage)
    }
  }
}

extension ReportTotals.TargetSums {
  mutating func add(_ c: ReportCase) {
    tally.add(c.status, tolerated: c.tolerated)
    if let l = c.latencyMS {
      latencyMS += l
      latencies += 1
    }
    for u in c.allUsage { usage.add(u) }
  }
}

/// Tokens and cost over many cases.
package struct UsageTotals: Sendable, Equatable {
  package var promptTokens = 0
  package var completionTokens = 0
  package var reasoningTokens = 0
  package var cachedTokens = 0
  /// Nil when no case reported a cost (and no provider priced one).
  package var cost: Double?
  /// True when some of `cost` comes from providers' `pricing`.
  package var costIsEstimated = false
  /// Cases that reported usage.
  package var cases = 0

  package init() {}

  package mutating func add(_ u: Completion.Usage) {
    cases += 1
    promptTokens += u.promptTokens ?? 0
    completionTokens += u.completionTokens ?? 0
    reasoningTokens += u.reasoningTokens ?? 0
    cachedTokens += u.cachedTokens ?? 0
    if let c = u.cost { cost = (cost ?? 0) + c }
    if u.costIsEstimated { costIsEstimated = true }
  }

  /// `tokens: 1,234 prompt (200 cached), 567 completion (300 reasoning); cost $0.0012`
  package var line: String {
    var s = "tokens: \(promptTokens) prompt"
    if cachedTokens > 0 { s += " (\(cachedTokens) cached)" }
    s += ", \(completionTokens) completion"
    if reasoningTokens > 0 { s += " (\(reasoningTokens) reasoning)" }
    if let cost { s += "; cost $\(NumberText.money(cost))" + (costIsEstimated ? " (estimated from pricing)" : "") }
    return s
  }
}
