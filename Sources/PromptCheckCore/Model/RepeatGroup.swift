/// The samples of one repeated test (every repetition of one case): what a gate judged
/// and the figures a reviewer reads (README "Nondeterministic answers").
package struct RepeatGroup: Sendable, Equatable {
  /// The case id without `#N`.
  package var id: String
  /// Samples that ran (not skipped), and how many passed.
  package var runs: Int
  package var passes: Int
  /// The most samples planned (`repeat: N`, or `max` of an adaptive repeat).
  package var planned: Int
  package var minPassRate: Double?
  /// The confidence of the interval (the test's `confidence`, else 0.95 for the figures).
  package var confidence: Double
  /// True when the test gives `confidence`: the gate is then the interval's lower bound.
  package var confidenceGate: Bool
  /// The Wilson score interval of the pass rate at `confidence`.
  package var lower: Double
  package var upper: Double
  /// Adaptive repeats: what the SPRT decided (`pass`, `fail`, or `undecided` at `max`).
  package var decision: String?
  /// Whether the gate was met (nil without `min_pass_rate`: then every sample must pass).
  package var met: Bool?

  package init(
    id: String, runs: Int, passes: Int, planned: Int, minPassRate: Double?, confidence: Double, confidenceGate: Bool,
    lower: Double, upper: Double, decision: String?, met: Bool?
  ) {
    self.id = id
    self.runs = runs
    self.passes = passes
    self.planned = planned
    self.minPassRate = minPassRate
    self.confidence = confidence
    self.confidenceGate = confidenceGate
    self.lower = lower
    self.upper = upper
    self.decision = decision
    self.met = met
  }

  /// pass@k: at least one sample passed.
  package var passAtK: Bool { passes > 0 }
  /// pass^k: every sample passed.
  package var passAllK: Bool { runs > 0 && passes == runs }
  /// Mixed results.
  package var flaky: Bool { passes > 0 && passes < runs }
}
