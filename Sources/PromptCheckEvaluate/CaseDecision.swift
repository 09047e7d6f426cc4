import PromptCheckCore

/// Whether a case's findings pass it (README "Weights and threshold"). Pure.
package enum CaseDecision {
  package struct Decision: Sendable, Equatable {
    package var passed: Bool
    /// The weighted share of passing assertions, when the test has a threshold.
    package var score: Double?
    /// Said in the case's notes when a threshold decided.
    package var note: String?
  }

  /// Without a threshold every finding of non-zero weight must pass. With one, the weights of
  /// the passing assertions must make up at least `threshold` of the total weight. A golden
  /// always has to match.
  package static func decide(_ findings: [Finding], threshold: Double?) -> Decision {
    let golden = findings.filter { $0.kind == "golden" }
    let assertions = findings.filter { $0.kind != "golden" }
    let goldenPasses = golden.allSatisfy(\.passed)
    guard let threshold else {
      return Decision(passed: goldenPasses && assertions.allSatisfy { $0.passed || $0.weight == 0 })
    }
    let total = assertions.reduce(0) { $0 + $1.weight }
    let passing = assertions.filter(\.passed).reduce(0) { $0 + $1.weight }
    let score = total > 0 ? passing / total : 1
    let meets = score >= threshold - 1e-12
    // Said only when the threshold made a difference: some weighted assertion failed.
    guard assertions.contains(where: { !$0.passed && $0.weight > 0 }) else {
      return Decision(passed: goldenPasses && meets, score: score)
    }
    let note =
      "weighted score \(NumberText.format(score, digits: 3)) (\(NumberText.format(passing)) of \(NumberText.format(total))), threshold \(NumberText.format(threshold)): "
      + (meets ? "met" : "not met")
    return Decision(passed: goldenPasses && meets, score: score, note: note)
  }
}
