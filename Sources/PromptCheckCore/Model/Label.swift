/// A person's verdict on a case or one of its judged assertions (README "The local loop"),
/// kept in `expectations/labels/<suite>.yaml`.
package struct Label: Sendable, Equatable {
  package enum Verdict: String, Sendable, CaseIterable {
    case pass, fail
  }

  /// The case's id (`suite/test`, `suite/test#2`, `suite/test[name=Bob]`).
  package var caseID: String
  /// The assertion's index in the case (`assert[N]`); nil: the case as a whole.
  package var assertion: Int?
  package var verdict: Verdict
  package var note: String?
  /// Who labelled (`git config user.name`), when known.
  package var by: String?
  /// The answer labelled (`Label.answerHash`): a label whose answer changed since is stale.
  package var answer: String
  /// When, in UTC (ISO 8601).
  package var at: String

  package init(
    caseID: String, assertion: Int?, verdict: Verdict, note: String?, by: String?, answer: String, at: String
  ) {
    self.caseID = caseID
    self.assertion = assertion
    self.verdict = verdict
    self.note = note
    self.by = by
    self.answer = answer
    self.at = at
  }

  /// What a label is keyed by: one label per case and assertion.
  package var key: String { caseID + (assertion.map { " assert[\($0)]" } ?? "") }

  /// The answer's digest as a label keeps it: `fnv1a64:` and sixteen hex digits.
  package static func answerHash(_ output: String) -> String { "fnv1a64:" + FNV1a.hex(FNV1a.hash(output)) }
}

/// `min_kappa` on a judged assertion (or `calibration:` in the config): the recorded verdicts
/// must agree with the labels at least this well (Cohen's κ), over at least `minLabels` labels.
package struct CalibrationGate: Sendable, Equatable {
  package var minKappa: Double
  package var minLabels: Int

  package static let defaultMinLabels = 5

  package init(minKappa: Double, minLabels: Int = CalibrationGate.defaultMinLabels) {
    self.minKappa = minKappa
    self.minLabels = minLabels
  }
}
