/// The counts of a run and the exit status they give: the one place both are computed
/// (for `run`, `merge`, the terminal, the reports and the step summary).
package struct Tally: Sendable, Equatable {
  package var passed = 0
  /// Failures that count (tolerated repetitions excluded).
  package var failed = 0
  /// Failed repetitions of a test whose `min_pass_rate` was met.
  package var tolerated = 0
  package var errored = 0
  package var skipped = 0

  package init() {}

  package init<S: Sequence>(_ cases: S) where S.Element == (status: CaseStatus, tolerated: Bool) {
    for c in cases { add(c.status, tolerated: c.tolerated) }
  }

  package mutating func add(_ status: CaseStatus, tolerated isTolerated: Bool) {
    switch status {
    case .passed: passed += 1
    case .failed: if isTolerated { tolerated += 1 } else { failed += 1 }
    case .errored: errored += 1
    case .skipped: skipped += 1
    }
  }

  /// Cases that ran (not skipped).
  package var ran: Int { passed + failed + tolerated + errored }

  /// The fraction of the cases that ran that passed (a tolerated repetition counts as passed); nil when none ran.
  package var passRate: Double? { ran == 0 ? nil : Double(passed + tolerated) / Double(ran) }

  /// README "Exit status": 1 when a failure counts, else 3 when a case errored, else 0.
  /// With `minPassRate` below 1, failures are excused while the pass rate reaches it;
  /// an errored case is never excused.
  package func exitStatus(minPassRate: Double = 1) -> ExitStatus {
    if failed > 0 && !(minPassRate < 1 && (passRate ?? 0) >= minPassRate) { return .failed }
    if errored > 0 { return .errored }
    return .ok
  }

  /// The line that says how `--min-pass-rate` judged the run (nil when it is 1, the default).
  package func passRateLine(minPassRate: Double) -> String? {
    guard minPassRate < 1 else { return nil }
    guard let rate = passRate else {
      return "pass rate: no case ran (--min-pass-rate \(NumberText.format(minPassRate)))"
    }
    let met = rate >= minPassRate
    let percent = NumberText.format((rate * 1000).rounded() / 10)
    return "pass rate \(percent)% (\(passed + tolerated) of \(ran) cases that ran) "
      + (met ? "meets" : "is below") + " --min-pass-rate \(NumberText.format(minPassRate))"
      + (errored > 0
        ? "; \(errored) errored case\(errored == 1 ? "" : "s") count as not passed and are never excused" : "")
  }
}
