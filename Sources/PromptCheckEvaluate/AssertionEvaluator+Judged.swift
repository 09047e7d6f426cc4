import PromptCheckCore

/// The judged kinds (README "Judged assertions"): their outcomes from the judgements made
/// before evaluation, and the judge calls a case needs.
extension AssertionEvaluator {
  /// The judges a case's assertions need, in assertion order (`any-of` members included),
  /// from the completion as the assertions see it.
  package static func judgeCalls(
    for assertions: [Assertion], completion: Completion, case c: PlannedCase, transforms: [Transform] = [],
    steps: [Step] = [], conversation: ConversationFacts? = nil
  ) -> [JudgeCall] {
    var base = Subjects(completion: completion, testTransforms: transforms)
    base.steps = steps
    base.conversation = conversation
    var out: [JudgeCall] = []
    func visit(_ a: Assertion) {
      let label = "\(a.label) (\(a.fullKind))"
      // `on: step[N]` or `on: trajectory`: the judge reads that text (a step the case lacks fails the assertion).
      guard case .success(var subjects) = base.scoped(a.scope) else { return }
      switch a.check {
      case .llmRubric(let rubric):
        guard case .success(let text) = subjects.checkedText(a) else { return }
        out.append(
          JudgeCall(
            key: a.key, label: label,
            work: .grader(Judging.graderRequests(rubric, subject: text, for: c), threshold: rubric.threshold)))
      case .similar(let similarity):
        guard case .success(let text) = subjects.checkedText(a) else { return }
        out.append(
          JudgeCall(
            key: a.key, label: label, work: .embeddings(Judging.embeddingRequests(similarity, subject: text, for: c))))
      case .exec(let command):
        out.append(
          JudgeCall(
            key: a.key, label: label, work: .exec(command, input: Judging.execInput(c, completion: completion))))
      case .anyOf(let members):
        members.forEach(visit)
      default:
        break
      }
    }
    assertions.forEach(visit)
    return out
  }

  /// The outcome of a judged check: `read` makes it from the judgement; a judge's problem, or no
  /// judgement at all, fails it whatever its polarity.
  func judged(
    _ judgement: Result<Judgement, JudgeError>?, _ expectation: String, read: (Judgement) -> Outcome?
  ) -> Outcome {
    if case .success(let j)? = judgement, let o = read(j) { return o }
    var o = Outcome(holds: false, expectation: expectation)
    if case .failure(let problem)? = judgement {
      o.problem = problem.message
    } else {
      o.problem = "it was not judged"
    }
    return o
  }

  func rubricOutcome(_ a: Assertion, _ rubric: Rubric, _ judgement: Result<Judgement, JudgeError>?) -> Outcome {
    var expectation = "meet the rubric \(Excerpt.start(rubric.text, length: 120))"
    if let t = rubric.threshold { expectation += " (score at least \(NumberText.format(t)))" }
    return judged(judgement, expectation) { j in
      guard case .verdict(let v) = j else { return nil }
      let said =
        "the grader says \(v.pass ? "it does" : "it does not") (score \(NumberText.format(v.score)))"
        + (v.reason.isEmpty ? "" : ": \(JSON.quoted(v.reason))")
      return Outcome(
        holds: v.pass, expectation: expectation, ifNot: said, ifHolds: said, score: v.score, reason: v.reason)
    }
  }

  func similarOutcome(_ s: Similarity, _ judgement: Result<Judgement, JudgeError>?) -> Outcome {
    let target = s.values.count == 1 ? Excerpt.start(s.values[0]) : "one of \(s.values.count) texts"
    let expectation = "be similar to \(target) (cosine similarity at least \(NumberText.format(s.threshold)))"
    return judged(judgement, expectation) { j in
      guard case .similarities(let found) = j, found.count == s.values.count,
        let best = found.indices.max(by: { found[$0] < found[$1] })
      else { return nil }
      let said =
        "its similarity is \(NumberText.format(found[best], digits: 3))"
        + (s.values.count > 1 ? " to \(Excerpt.start(s.values[best]))" : "")
      return Outcome(
        holds: found[best] >= s.threshold, expectation: expectation, ifNot: said, ifHolds: said,
        score: max(0, found[best]))
    }
  }

  func execOutcome(_ command: ExecCommand, _ judgement: Result<Judgement, JudgeError>?) -> Outcome {
    let expectation = "satisfy the command `\(Self.shorten(command.display))`"
    return judged(judgement, expectation) { j in
      guard case .exec(let e) = j else { return nil }
      var said = "it \(e.passed ? "passed" : "failed") (exit status \(e.exitStatus))"
      if let score = e.score { said += ", score \(NumberText.format(score))" }
      if let reason = e.reason, !reason.isEmpty { said += ": \(JSON.quoted(reason))" }
      let err = e.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
      let ifNot = err.isEmpty ? said : said + "; stderr: \(Excerpt.start(err, length: 400))"
      return Outcome(
        holds: e.passed, expectation: expectation, ifNot: ifNot, ifHolds: said, score: e.score, reason: e.reason)
    }
  }

  func anyOfOutcome(_ members: [Assertion], _ subjects: inout Subjects) -> Outcome {
    let findings = members.map { evaluate($0, subjects: &subjects) }
    let expectation = "pass one of \(members.count) alternatives"
    if let passed = findings.first(where: \.passed) {
      return Outcome(
        holds: true, expectation: expectation, ifHolds: "\(passed.label) \(passed.kind) passes: \(passed.message)")
    }
    return Outcome(
      holds: false, expectation: expectation,
      ifNot: "none does: " + findings.map { "\($0.label) \($0.kind): \($0.message)" }.joined(separator: "; "))
  }
}
