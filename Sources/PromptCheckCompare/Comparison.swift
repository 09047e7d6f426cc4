import PromptCheckCore
import PromptCheckExecute
import PromptCheckReport

/// Two sides' answers, paired by case id and classified (pure).
package struct Comparison: Sendable {
  package enum Change: String, Sendable { case added, removed, changed, unchanged }
  /// Status flips, where both sides are reports.
  package enum Flip: String, Sendable {
    /// passed → failed: behaviour got worse.
    case regression
    /// failed → passed.
    case fix
    /// → errored: the case could not run on the new side.
    case nowErrored = "now-errored"
  }

  package struct Case: Sendable {
    package var id: String
    package var change: Change
    package var flip: Flip?
    package var base: Answer?
    package var head: Answer?
    /// Unified diff of the answer text (changed cases).
    package var diff: String?
    /// How the trajectory changed (a looped case whose tool calls or model calls differ).
    package var trajectoryChanges: [String] = []
    /// Where two conversations part: the first turn whose user message or reply differs.
    package var fork: Fork?

    package struct Fork: Sendable, Equatable {
      /// 1-based.
      package var turn: Int
      /// Each side's turns from the fork on.
      package var base: [TurnText]
      package var head: [TurnText]
    }

    /// Tokens (prompt + completion, reasoning included in completion), cost and latency, new minus old.
    package var tokenDelta: Int? {
      guard let a = base?.usage?.totalTokens ?? total(base), let b = head?.usage?.totalTokens ?? total(head) else {
        return nil
      }
      return b - a
    }
    package var reasoningDelta: Int? {
      guard let a = base?.usage?.reasoningTokens, let b = head?.usage?.reasoningTokens else { return nil }
      return b - a
    }
    package var costDelta: Double? {
      guard let a = base?.usage?.cost, let b = head?.usage?.cost else { return nil }
      return b - a
    }
    package var latencyDelta: Int? {
      guard let a = base?.latencyMS, let b = head?.latencyMS else { return nil }
      return b - a
    }
    func total(_ a: Answer?) -> Int? {
      guard let u = a?.usage, let p = u.promptTokens, let c = u.completionTokens else { return nil }
      return p + c
    }
  }

  package var baseName: String
  package var headName: String
  package var bothReports: Bool
  /// Each `metric:` of either report: passed/total before and after.
  package var metrics: [(name: String, base: (passed: Int, total: Int)?, head: (passed: Int, total: Int)?)] = []
  /// Regressions first, then fixes, newly errored, changed, added, removed; unchanged last.
  package var cases: [Case]

  package init(base: AnswerSet, head: AnswerSet) {
    baseName = base.name
    headName = head.name
    bothReports = base.isReport && head.isReport
    var names: [String] = []
    for n in base.metrics.map(\.name) + head.metrics.map(\.name) where !names.contains(n) { names.append(n) }
    for name in names {
      let b = base.metrics.first { $0.name == name }.map { (passed: $0.passed, total: $0.total) }
      let h = head.metrics.first { $0.name == name }.map { (passed: $0.passed, total: $0.total) }
      metrics.append((name, b, h))
    }
    var order = head.order
    let inHead = Set(head.order)
    order += base.order.filter { !inHead.contains($0) }
    var out: [Case] = []
    for id in order {
      let a = base.answers[id]
      let b = head.answers[id]
      var c = Case(id: id, change: .unchanged, base: a, head: b)
      switch (a, b) {
      case (nil, _): c.change = .added
      case (_, nil): c.change = .removed
      case (let a?, let b?):
        if a.text != b.text {
          c.change = .changed
          c.diff = UnifiedDiff.diff(
            old: a.text.hasSuffix("\n") ? a.text : a.text + "\n", new: b.text.hasSuffix("\n") ? b.text : b.text + "\n",
            oldName: base.name, newName: head.name)
        }
        c.trajectoryChanges = Self.trajectoryChanges(a.trajectory, b.trajectory)
        if !c.trajectoryChanges.isEmpty { c.change = .changed }
        c.fork = Self.fork(a.turns, b.turns)
        if c.fork != nil { c.change = .changed }
        if let s = a.status, let t = b.status {
          let wasGood = s == .passed || (s == .failed && a.tolerated)
          let isBad = t == .failed && !b.tolerated
          if wasGood && isBad {
            c.flip = .regression
          } else if s == .failed && !a.tolerated && t == .passed {
            c.flip = .fix
          } else if s != .errored && t == .errored {
            c.flip = .nowErrored
          }
        }
      }
      out.append(c)
    }
    func rank(_ c: Case) -> Int {
      switch (c.flip, c.change) {
      case (.regression?, _): return 0
      case (.fix?, _): return 1
      case (.nowErrored?, _): return 2
      case (nil, .changed): return 3
      case (nil, .added): return 4
      case (nil, .removed): return 5
      case (nil, .unchanged): return 6
      }
    }
    cases = out.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
  }

  /// What changed between two trajectories, one line each: the tool sequence, then tools added
  /// or removed (or the same tools reordered), arguments changed at the same position, and the
  /// number of model calls. Empty when they are the same (or neither side has one).
  package static func trajectoryChanges(_ a: Trajectory?, _ b: Trajectory?) -> [String] {
    guard a != b else { return [] }
    let old = a ?? .singleRequest
    let new = b ?? .singleRequest
    func listed(_ names: [String]) -> String { "[" + names.joined(separator: ", ") + "]" }
    var lines: [String] = []
    if old.names != new.names {
      lines.append("tools \(listed(old.names)) → \(listed(new.names))")
      func counts(_ names: [String]) -> [String: Int] { names.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
      let was = counts(old.names)
      let now = counts(new.names)
      if was == now {
        lines.append("reordered: the same tools in another order")
      } else {
        for name in Set(was.keys).union(now.keys).sorted() {
          let d = now[name, default: 0] - was[name, default: 0]
          if d > 0 { lines.append("added: \(name)" + (d > 1 ? " ×\(d)" : "")) }
          if d < 0 { lines.append("removed: \(name)" + (d < -1 ? " ×\(-d)" : "")) }
        }
      }
    }
    // The same tool at the same position, called with other arguments.
    for (k, pair) in zip(old.calls, new.calls).enumerated() where pair.0.name == pair.1.name {
      if pair.0.arguments != pair.1.arguments {
        lines.append("call \(k + 1) \(pair.0.name): arguments \(pair.0.arguments) → \(pair.1.arguments)")
      }
    }
    if old.modelCalls != new.modelCalls { lines.append("model calls \(old.modelCalls) → \(new.modelCalls)") }
    return lines
  }

  /// The first turn at which two conversations differ (a user message or a reply), with both
  /// sides from there; nil when they are the same or neither is a conversation.
  package static func fork(_ a: [TurnText]?, _ b: [TurnText]?) -> Case.Fork? {
    guard a != nil || b != nil, a != b else { return nil }
    let old = a ?? []
    let new = b ?? []
    let k = zip(old, new).prefix { $0 == $1 }.count
    return Case.Fork(turn: k + 1, base: Array(old.dropFirst(k)), head: Array(new.dropFirst(k)))
  }

  package func count(_ change: Change) -> Int { cases.count { $0.change == change } }
  package func count(_ flip: Flip) -> Int { cases.count { $0.flip == flip } }
  /// Cases whose answer changed and that have a golden (on either side).
  package var goldenChanges: [Case] {
    cases.filter { $0.change == .changed && ($0.base?.hasGolden == true || $0.head?.hasGolden == true) }
  }
  /// Everything that is not unchanged.
  package var interesting: [Case] { cases.filter { $0.change != .unchanged || $0.flip != nil } }

  /// `--fail-on-regression`: a regression between reports, or a changed answer of a golden case.
  package var failsTheGate: Bool { count(.regression) > 0 || (!bothReports && !goldenChanges.isEmpty) }

  package var summaryLine: String {
    var parts: [String] = []
    if bothReports {
      parts.append(counted(count(.regression), "regression"))
      parts.append(counted(count(.fix), "fix").replacingOccurrences(of: "fixs", with: "fixes"))
      if count(.nowErrored) > 0 { parts.append("\(count(.nowErrored)) now errored") }
    }
    parts.append("\(count(.changed)) answer\(count(.changed) == 1 ? "" : "s") changed")
    parts.append("\(count(.added)) added")
    parts.append("\(count(.removed)) removed")
    parts.append("\(count(.unchanged)) unchanged")
    return "compare \(baseName) → \(headName): \(counted(cases.count, "case")): " + parts.joined(separator: ", ")
  }

  /// `metrics: accuracy 3/4 → 4/4, tone 2/2 → 1/2`; nil without any.
  package var metricsLine: String? {
    guard !metrics.isEmpty else { return nil }
    func shown(_ m: (passed: Int, total: Int)?) -> String { m.map { "\($0.passed)/\($0.total)" } ?? "-" }
    return "metrics: " + metrics.map { "\($0.name) \(shown($0.base)) → \(shown($0.head))" }.joined(separator: ", ")
  }
}
