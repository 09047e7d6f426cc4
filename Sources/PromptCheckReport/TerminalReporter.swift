import Foundation
import PromptCheckCore

/// Terminal output: a progress bar on a TTY (done/total, pass/fail counts,
/// ETA), plain lines otherwise, then a summary with every failure.
package final class TerminalReporter: RunReporter {
  package struct Style: Sendable {
    /// A terminal that understands cursor control (a TTY, and not `TERM=dumb`).
    package var isTTY: Bool
    package var color: Bool
    package var quiet = false
    package var verbose = false
    /// The terminal's width in columns; the progress line never wraps past it.
    package var width: Int
    package init(isTTY: Bool, color: Bool, quiet: Bool = false, verbose: Bool = false, width: Int = 80) {
      self.isTTY = isTTY
      self.color = color
      self.quiet = quiet
      self.verbose = verbose
      self.width = width
    }
  }

  let write: (String) -> Void
  let style: Style
  let clock = ContinuousClock()
  var start: ContinuousClock.Instant?
  var tally = Tally()
  var progressShown = false
  /// More for the progress line as it is drawn (the rate governor's window and waits), if any.
  package var status: (@Sendable () -> String?)?

  package init(style: Style, write: @escaping (String) -> Void) {
    self.style = style
    self.write = write
  }

  func paint(_ s: String, _ code: String) -> String {
    style.color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
  }

  package func handle(_ event: RunEvent) {
    switch event {
    case .runStarted(let s):
      start = clock.now
      if !style.quiet {
        write(
          "promptcheck \(promptcheckVersion): \(s.caseCount) case\(s.caseCount == 1 ? "" : "s") (mode \(s.mode.rawValue))\n"
        )
      }
    case .caseStarted:
      break
    case .caseFinished(let r, let done, let total):
      tally.add(r.status, tolerated: r.tolerated)
      if style.quiet || Self.isCancellation(r.error) { return }
      let shown = ReportCase(r)
      if style.isTTY && !style.verbose {
        // A failure is said as it happens (its short form; the full block comes at the end).
        if (r.status == .failed && !r.tolerated) || r.status == .errored {
          if progressShown { write("\r\u{1B}[2K") }
          write(line(shown) + "  " + paint(Self.firstLine(of: shown), "2") + "\n")
        }
        progress(done, total)
      } else {
        write(line(shown) + "\n")
        if style.verbose { write(shown.status == .passed ? passDetails(shown) : details(shown)) }
      }
    case .caseReported:
      break
    case .runFinished(let summary):
      if progressShown { write("\r\u{1B}[2K") }
      write(summaryText(summary))
    }
  }

  func line(_ r: ReportCase) -> String {
    let tag: String
    switch r.status {
    case .passed: tag = paint("PASS ", "32")
    case .failed where r.tolerated: tag = paint("FLAKY", "33")
    case .failed: tag = paint("FAIL ", "31")
    case .errored: tag = paint("ERROR", "33")
    case .skipped: tag = paint("SKIP ", "2")
    }
    var s = "\(tag) \(r.id)"
    if r.status == .skipped {
      s += paint("  (\(r.error ?? "skipped"))", "2")
    } else {
      let source: String
      switch r.cassette.status {
      case .replayed: source = ", replayed"
      case .recorded: source = ", recorded live"
      case .unchanged: source = ", recorded live (unchanged)"
      default: source = ""
      }
      s += paint("  \(r.durationMS) ms" + source, "2")
    }
    return s
  }

  /// The first line of what went wrong, for the line printed as a failure happens.
  static func firstLine(of r: ReportCase) -> String {
    let text = r.status == .errored ? (r.error ?? "could not run") : (r.failedAssertions.first?.message ?? "")
    let line = text.split(separator: "\n").first.map(String.init) ?? ""
    return line.unicodeScalars.count > 100
      ? String(String.UnicodeScalarView(line.unicodeScalars.prefix(100))) + "…" : line
  }

  /// A passing case under `--verbose`: its output and every assertion it passed.
  func passDetails(_ r: ReportCase) -> String {
    var out = ""
    if let output = r.output { out += "    output: \(Excerpt.start(output, length: 200))\n" }
    // A passing case may hold failures its threshold or a zero weight excused.
    for a in r.assertions { out += paint("    \(a.passed ? "✓" : "✗") \(a.message)", "2") + "\n" }
    for n in r.notes { out += paint("    note: \(n)\n", "2") }
    return out
  }

  /// Ctrl-C ends every case in flight with this error; they are said once, not one by one.
  static func isCancellation(_ error: String?) -> Bool { error == CallError.cancelled.message }

  func progress(_ done: Int, _ total: Int) {
    let width = 24
    let filled = total == 0 ? width : done * width / total
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    var eta = ""
    if let start, done > 0, done < total {
      let elapsed = clock.now - start
      let perCase = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      let remaining = Int((perCase / Double(done) * Double(total - done)).rounded())
      eta = String(format: "  ETA %d:%02d", remaining / 60, remaining % 60)
    }
    // Fit the terminal: drop the ETA, then the bar, rather than wrap onto a new line.
    if let more = status?() { eta += "  " + more }
    let plainCounts = "✓ \(tally.passed)  ✗ \(tally.failed)  ! \(tally.errored)"
    let counts =
      "\(paint("✓ \(tally.passed)", "32"))  \(paint("✗ \(tally.failed)", "31"))  \(paint("! \(tally.errored)", "33"))"
    let room = style.width - 1
    var text = "[\(bar)] \(done)/\(total)  \(counts)\(eta)"
    var visible = "[\(bar)] \(done)/\(total)  \(plainCounts)\(eta)".count
    if visible > room {
      text = "[\(bar)] \(done)/\(total)  \(counts)"
      visible -= eta.count
    }
    if visible > room {
      text = "\(done)/\(total)  \(counts)"
      visible = "\(done)/\(total)  \(plainCounts)".count
    }
    if visible > room { text = "\(done)/\(total)" }
    write("\r\u{1B}[2K" + text)
    progressShown = true
  }

  func colorDiff(_ diff: String) -> String { style.color ? Self.colorized(diff) : diff }

  /// A unified diff with its file, hunk, removed and added lines coloured (run and review).
  package static func colorized(_ diff: String) -> String {
    diff.split(separator: "\n", omittingEmptySubsequences: false).map { l -> String in
      if l.hasPrefix("+++") || l.hasPrefix("---") { return "\u{1B}[1m\(l)\u{1B}[0m" }
      if l.hasPrefix("+") { return "\u{1B}[32m\(l)\u{1B}[0m" }
      if l.hasPrefix("-") { return "\u{1B}[31m\(l)\u{1B}[0m" }
      if l.hasPrefix("@@") { return "\u{1B}[36m\(l)\u{1B}[0m" }
      return String(l)
    }.joined(separator: "\n")
  }

  /// The failure detail of one case: each failed assertion, or the error.
  func details(_ r: ReportCase) -> String {
    var out = ""
    switch r.status {
    case .failed:
      for f in r.failedAssertions {
        let text = f.kind == "golden" ? colorDiff(f.message) : f.message
        out += "    \(r.file):\(f.line ?? r.line): \(text.replacingOccurrences(of: "\n", with: "\n      "))\n"
      }
    case .errored:
      out +=
        "    \(r.file):\(r.line): \((r.error ?? "could not run").replacingOccurrences(of: "\n", with: "\n      "))\n"
    default:
      break
    }
    // A conversation: its failing turn (else its last) with the two turns before it; another case
    // of several steps: what it did, one line a step.
    if r.status == .failed || r.status == .errored {
      if !r.turns.isEmpty {
        out += Self.turnContext(r)
      } else {
        for (k, step) in r.steps.enumerated() { out += "      \(step.line(number: k + 1))\n" }
      }
    }
    for n in r.notes { out += paint("    note: \(n)\n", "2") }
    return out
  }

  /// `turn 2 user: …`, `turn 2 assistant: …` (and its tool steps) for the failing turn and the two
  /// before it; the failing turn's first line is marked ✗.
  static func turnContext(_ r: ReportCase) -> String {
    let focus = r.turns.first { !$0.passed } ?? r.turns[r.turns.count - 1]
    func plain(_ text: String) -> String {
      let flat = text.replacingOccurrences(of: "\n", with: " ")
      let us = flat.unicodeScalars
      return us.count <= 120 ? flat : String(String.UnicodeScalarView(us.prefix(120))) + "…"
    }
    var out = ""
    for t in r.turns where t.number >= focus.number - 2 && t.number <= focus.number {
      let mark = t.number == focus.number && !t.passed ? "    ✗ " : "      "
      out += "\(mark)turn \(t.number) user: \(plain(t.user))\n"
      for i in (t.firstStep - 1)..<min(t.lastStep, r.steps.count) {
        let s = r.steps[i]
        switch s.kind {
        case .tool:
          out += "      turn \(t.number) tool \(s.toolCalls.first?.name ?? "?"): \(plain(s.text))\n"
        case .model, .target:
          if !s.text.isEmpty || s.toolCalls.isEmpty {
            out += "      turn \(t.number) assistant: \(plain(s.text))\n"
          }
        case .app:
          out += "      turn \(t.number) the app's model call: \(plain(s.text))\n"
        case .user:
          break
        }
      }
    }
    if let e = r.endedBy { out += "      ended by \(e) after \(r.turns.count) turn\(r.turns.count == 1 ? "" : "s")\n" }
    return out
  }

  /// Every failed or errored case with its details, the notes of the others, and the
  /// repeated tests with mixed results (shared by `run` and `merge`).
  package func problemsText(_ totals: ReportTotals, _ head: ReportHead) -> String {
    var out = ""
    let problems = totals.problems.filter { !Self.isCancellation($0.error) }
    if !problems.isEmpty && !(style.verbose && !style.isTTY) {
      out += "\n"
      for r in problems { out += line(r) + "\n" + details(r) }
    }
    let cancelled = totals.problems.count - problems.count
    if cancelled > 0 {
      out += "\n" + paint("cancelled (Ctrl-C): \(counted(cancelled, "case")) did not finish", "33") + "\n"
    }
    let changed = totals.changed
    if !changed.isEmpty && !style.quiet {
      out += "\n\(counted(changed.count, "answer")) changed on re-recording:\n"
      for r in changed {
        out += "  \(r.id)\n"
        for l in TextChange.wordMarked(r.recordedChange ?? "", color: style.color).split(separator: "\n") {
          out += "    " + l + "\n"
        }
      }
    }
    let live = totals.recordedIDs
    if !live.isEmpty && head.mode == RunMode.auto.rawValue && !style.quiet {
      out += "\nrecorded live (no cassette, or a stale one): " + live.joined(separator: ", ") + "\n"
    }
    if !style.quiet {
      let problemIDs = Set(problems.map(\.id))
      for (id, notes) in totals.noted where !problemIDs.contains(id) {
        for n in notes { out += paint("note: \(id): \(n)\n", "2") }
      }
      let flaky = head.flaky
      if !flaky.isEmpty {
        out += "\n" + paint("flaky (mixed results over repetitions):", "33") + "\n"
        for g in flaky { out += "  " + Self.groupLine(g) + "\n" }
      }
    }
    return out
  }

  /// One line per target (or prompt version) when the run compares them.
  package static func targetTable(_ totals: ReportTotals) -> String {
    let rows = totals.byTarget
    guard !rows.isEmpty else { return "" }
    let header = ["target", "pass rate", "failed", "errored", "mean latency", "tokens", "cost"]
    var table: [[String]] = [header]
    for t in rows {
      table.append([
        t.target, t.tally.passRate.map { NumberText.format(($0 * 1000).rounded() / 10) + "%" } ?? "-",
        "\(t.tally.failed)",
        "\(t.tally.errored)", t.meanLatencyMS.map { "\($0) ms" } ?? "-",
        "\(t.usage.promptTokens + t.usage.completionTokens)",
        t.usage.cost.map { "$" + NumberText.money($0) } ?? "-",
      ])
    }
    let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
    var out = "\n"
    for r in table {
      out +=
        r.indices.map { i in
          i == 0
            ? r[i].padding(toLength: widths[i], withPad: " ", startingAt: 0)
            : String(repeating: " ", count: widths[i] - r[i].count) + r[i]
        }
        .joined(separator: "  ") + "\n"
    }
    return out
  }

  /// `support/refunds: 7/10 passed (70%), 95% interval 0.40–0.89; min_pass_rate 0.6: met`
  package static func groupLine(_ g: RepeatGroup) -> String {
    func r(_ x: Double) -> String { NumberText.format((x * 100).rounded() / 100) }
    let percent = g.runs > 0 ? NumberText.format((Double(g.passes) / Double(g.runs) * 100).rounded()) + "%" : "-"
    var s = "\(g.id): \(g.passes)/\(g.runs) passed (\(percent)), \(NumberText.format(g.confidence * 100))% interval "
    s += "\(r(g.lower))–\(r(g.upper))"
    if g.runs < g.planned { s += ", \(g.runs) of \(g.planned) samples" }
    if let rate = g.minPassRate, let met = g.met {
      s += "; min_pass_rate \(NumberText.format(rate))" + (g.confidenceGate ? " (lower bound)" : "")
      s += (g.decision.map { ", SPRT \($0)" } ?? "") + ": " + (met ? "met" : "not met")
    }
    return s
  }

  func summaryText(_ s: RunSummary) -> String {
    var out = problemsText(s.totals, s.head)
    let seconds = Double(s.durationMS) / 1000
    let t = s.tally
    var parts = ["\(t.passed) passed", "\(t.failed) failed"]
    if t.tolerated > 0 { parts.append("\(t.tolerated) tolerated") }
    parts.append("\(t.errored) errored")
    parts.append("\(t.skipped) skipped")
    let totalsLine = parts.joined(separator: ", ") + String(format: " in %.2f s", seconds)
    let colored =
      t.failed > 0 ? paint(totalsLine, "31") : t.errored > 0 ? paint(totalsLine, "33") : paint(totalsLine, "32")
    out += "\n" + colored + "\n"
    out += Self.targetTable(s.totals)
    if !s.totals.metrics.isEmpty && !style.quiet {
      out += "metrics: " + s.totals.metrics.map { "\($0.name) \($0.passed)/\($0.total)" }.joined(separator: ", ") + "\n"
    }
    let usage = s.totals.usage
    if usage.cases > 0 && !style.quiet {
      out += paint(usage.line + (s.totals.usageAsRecorded ? " (as recorded)" : ""), "2") + "\n"
    }
    return out
  }
}
