import PromptCheckCore

/// Judges repeated tests: groups the repetitions of each case, decides each group's gate
/// (the pass rate, its Wilson lower bound, or the SPRT for adaptive repeats) and marks the
/// failed repetitions of a group that met its gate as tolerated.
package enum PassRateGate {
  /// The verdict of a group from its samples, as the test asks for it.
  package static func judge(_ c: PlannedCase, passes: Int, runs: Int) -> (met: Bool?, decision: String?) {
    guard let rate = c.minPassRate else { return (nil, nil) }
    guard runs > 0 else { return (false, nil) }
    var decision: String?
    if c.adaptiveMin != nil {
      let d = PassRateStatistics.SPRT(rate: rate).decide(passes: passes, runs: runs)
      decision = d.rawValue
      if d != .undecided { return (d == .pass, decision) }
    }
    if let confidence = c.confidence {
      return (PassRateStatistics.wilson(passes: passes, runs: runs, confidence: confidence).lower >= rate, decision)
    }
    return (Double(passes) / Double(runs) >= rate, decision)
  }

  /// Adaptive repeats: whether to draw another sample after these.
  package static func needsAnotherSample(_ c: PlannedCase, passes: Int, runs: Int) -> Bool {
    guard let min = c.adaptiveMin, let rate = c.minPassRate else { return runs < c.repeatCount }
    if runs >= c.repeatCount { return false }
    if runs < min { return true }
    return PassRateStatistics.SPRT(rate: rate).decide(passes: passes, runs: runs) == .undecided
  }

  /// Marks tolerated repetitions and returns every repeated test's figures, in plan order.
  package static func apply(_ results: inout [CaseResult]) -> [RepeatGroup] {
    var order: [String] = []
    var members: [String: [Int]] = [:]
    for (i, r) in results.enumerated() where r.plannedCase.repeatIndex != nil {
      let g = r.plannedCase.groupID
      if members[g] == nil { order.append(g) }
      members[g, default: []].append(i)
    }
    var groups: [RepeatGroup] = []
    for g in order {
      guard let indices = members[g], let first = indices.first else { continue }
      let c = results[first].plannedCase
      let passes = indices.count { results[$0].status == .passed }
      let runs = indices.count { results[$0].status != .skipped }
      let (met, decision) = judge(c, passes: passes, runs: runs)
      let confidence = c.confidence ?? 0.95
      let interval = PassRateStatistics.wilson(passes: passes, runs: runs, confidence: confidence)
      groups.append(
        RepeatGroup(
          id: g, runs: runs, passes: passes, planned: c.repeatCount, minPassRate: c.minPassRate, confidence: confidence,
          confidenceGate: c.confidence != nil, lower: interval.lower, upper: interval.upper, decision: decision,
          met: met))
      guard met == true, let rate = c.minPassRate else { continue }
      let how = c.confidence.map {
        "the \(NumberText.format($0 * 100))% lower bound \(NumberText.format((interval.lower * 1000).rounded() / 1000))"
      }
      for i in indices where results[i].status == .failed {
        results[i].tolerated = true
        results[i].notes.append(
          "tolerated: \(passes) of \(runs) repetitions passed, "
            + (how.map { "\($0) meets min_pass_rate" } ?? "min_pass_rate is") + " \(NumberText.format(rate))"
            + (decision.map { " (SPRT: \($0))" } ?? ""))
      }
    }
    return groups
  }
}
