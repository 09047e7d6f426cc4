import PromptCheckCore

/// `tool-sequence`, `tool-used` and `step-count` (README "Agents: tool loops").
extension AssertionEvaluator {
  /// `[a, b, c]`, or `no tool` when the list is empty.
  static func names(_ list: [String]) -> String { list.isEmpty ? "no tool" : "[" + list.joined(separator: ", ") + "]" }

  func toolSequenceOutcome(_ called: [String], _ expected: [String], _ mode: Assertion.SequenceMode) -> Outcome {
    let holds: Bool
    let expectation: String
    switch mode {
    case .exact:
      holds = called == expected
      expectation = "call the tools \(Self.names(expected)), exactly in this order"
    case .inOrder:
      var rest = called[...]
      holds = expected.allSatisfy { name in
        guard let i = rest.firstIndex(of: name) else { return false }
        rest = rest[(i + 1)...]
        return true
      }
      expectation = "call the tools \(Self.names(expected)) in this order"
    case .anyOrder:
      holds = called.sorted() == expected.sorted()
      expectation = "call the tools \(Self.names(expected)), in any order"
    case .subset:
      holds = called.allSatisfy(expected.contains)
      expectation = "call no tool but \(Self.names(expected))"
    }
    let made = "it called \(Self.names(called))"
    return Outcome(holds: holds, expectation: expectation, ifNot: made, ifHolds: made)
  }

  func toolUsedOutcome(_ called: [String], _ name: String, _ lo: Int, _ hi: Int?) -> Outcome {
    let n = called.count { $0 == name }
    let expectation: String
    switch (lo, hi) {
    case (1, nil): expectation = "call \(name)"
    case (let l, nil): expectation = "call \(name) at least \(l) times"
    case (let l, let h?) where l == h: expectation = "call \(name) \(l) times"
    case (let l, let h?): expectation = "call \(name) \(l) to \(h) times"
    }
    let said = n == 1 ? "it called \(name) once" : "it called \(name) \(n) times"
    let others = called.isEmpty ? "" : " (calls: \(Self.names(called)))"
    return Outcome(
      holds: n >= lo && hi.map { n <= $0 } ?? true, expectation: expectation, ifNot: said + others, ifHolds: said)
  }

  func stepCountOutcome(_ n: Int, _ lo: Int?, _ hi: Int?) -> Outcome {
    let expectation: String
    switch (lo, hi) {
    case (let l?, let h?) where l == h: expectation = "take \(l) model calls"
    case (let l?, let h?): expectation = "take \(l) to \(h) model calls"
    case (let l?, nil): expectation = "take at least \(l) model calls"
    case (nil, let h?): expectation = "take at most \(h) model calls"
    default: expectation = "take model calls"
    }
    let said = n == 1 ? "it took 1" : "it took \(n)"
    return Outcome(
      holds: lo.map { n >= $0 } ?? true && hi.map { n <= $0 } ?? true, expectation: expectation, ifNot: said,
      ifHolds: said)
  }

  /// `turn-count`: how many turns the conversation had (user messages answered, the first included).
  func turnCountOutcome(_ subjects: Subjects, _ lo: Int?, _ hi: Int?) -> Outcome {
    let expectation: String
    switch (lo, hi) {
    case (let l?, let h?) where l == h: expectation = "have \(l) turn\(l == 1 ? "" : "s")"
    case (let l?, let h?): expectation = "have \(l) to \(h) turns"
    case (let l?, nil): expectation = "have at least \(l) turn\(l == 1 ? "" : "s")"
    case (nil, let h?): expectation = "have at most \(h) turn\(h == 1 ? "" : "s")"
    default: expectation = "have turns"
    }
    guard let conversation = subjects.conversation else {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem = "the case is not a conversation (it has no turns)"
      return o
    }
    let n = TurnView.turns(opening: conversation.opening, steps: subjects.steps).count
    let said = "it had \(n)"
    return Outcome(
      holds: lo.map { n >= $0 } ?? true && hi.map { n <= $0 } ?? true, expectation: expectation, ifNot: said,
      ifHolds: said)
  }

  /// `ended-by`: how the conversation ended.
  func endedByOutcome(_ conversation: ConversationFacts?, _ expected: Conversation.Ending) -> Outcome {
    let expectation = "end by \(expected.rawValue)"
    guard let ending = conversation?.ending else {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem =
        conversation == nil ? "the case is not a conversation (it has no turns)" : "the conversation has not ended"
      return o
    }
    return Outcome(
      holds: ending == expected, expectation: expectation, ifNot: "it ended by \(ending.rawValue)",
      ifHolds: "it did")
  }

  /// Whether every check holds on a tool call's arguments; the first that does not, described.
  package func argumentsMatch(_ checks: [JSONPathCheck], _ arguments: JSON) -> (holds: Bool, unmet: String?) {
    for check in checks {
      let o = jsonPathOutcome(check, arguments)
      if !o.holds { return (false, Self.describe(check)) }
    }
    return (true, nil)
  }
}
