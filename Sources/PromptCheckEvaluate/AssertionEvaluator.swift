import Foundation
import PromptCheckCore

/// Evaluates assertions on a completion. Pure: no I/O, never throws.
package struct AssertionEvaluator: Sendable {
  /// How long one regex may run on one subject before the assertion fails instead of hanging the run.
  package var regexDeadline: Duration = RegexGuard.limit

  package init() {}

  /// Every assertion is evaluated, not only up to the first failure. `judgements` holds what
  /// the judges found (by `Assertion.key`); `transforms` are the test's, applied to the output.
  package func evaluate(
    _ assertions: [Assertion], on completion: Completion, judgements: [String: Result<Judgement, JudgeError>] = [:],
    transforms: [Transform] = [], steps: [Step] = [], conversation: ConversationFacts? = nil
  ) -> [Finding] {
    var subjects = Subjects(completion: completion, judgements: judgements, testTransforms: transforms)
    subjects.steps = steps
    subjects.conversation = conversation
    return assertions.map { evaluate($0, subjects: &subjects) }
  }

  package func evaluate(_ assertion: Assertion, on completion: Completion) -> Finding {
    var subjects = Subjects(completion: completion)
    return evaluate(assertion, subjects: &subjects)
  }

  /// What a check found: whether its property holds, and what to say either way. The two
  /// explanations are made only when said (most assertions pass and never say `ifNot`).
  struct Outcome {
    var holds: Bool
    /// Completes "expected the output to …".
    var expectation: String
    private var makeIfNot: () -> String
    private var makeIfHolds: () -> String
    /// A problem that fails the assertion whatever its polarity (bad JSON, missing usage, regex timeout).
    var problem: String?
    /// A judged check's score in 0…1 (of the property, before negation).
    var score: Double?
    var reason: String?

    init(
      holds: Bool, expectation: String, ifNot: @autoclosure @escaping () -> String = "",
      ifHolds: @autoclosure @escaping () -> String = "", score: Double? = nil, reason: String? = nil
    ) {
      self.holds = holds
      self.expectation = expectation
      makeIfNot = ifNot
      makeIfHolds = ifHolds
      self.score = score
      self.reason = reason
    }

    /// Said when the property does not hold ("but …").
    var ifNot: String {
      get { makeIfNot() }
      set { makeIfNot = { newValue } }
    }
    /// Said when it holds but the assertion is negated ("but …").
    var ifHolds: String {
      get { makeIfHolds() }
      set { makeIfHolds = { newValue } }
    }
  }

  /// `problem`, when given, fails the assertion whatever it finds (said as the check would say it).
  func evaluate(_ a: Assertion, subjects: inout Subjects, problem: String? = nil) -> Finding {
    if a.scope != subjects.scope {
      // `on: step[N]` or `on: trajectory`: the assertion reads that answer as if it were the case's.
      switch subjects.scoped(a.scope) {
      case .success(var inner):
        return evaluate(a, subjects: &inner)
      case .failure(let why):
        var inner = Subjects(completion: Completion(content: ""))
        inner.scope = a.scope
        return evaluate(a, subjects: &inner, problem: why.message)
      }
    }
    var o: Outcome
    switch subjects.shaped(a) {
    case .success(nil):
      o = outcome(a, &subjects)
    case .success(let text?):
      // A transformed subject is checked as the text the transforms left.
      var shaped = subjects
      shaped.override(a.subject, with: text)
      o = outcome(a, &shaped)
    case .failure(let why):
      // Said as the check would say it; the problem is what fails it.
      o = outcome(a, &subjects)
      o.holds = false
      o.problem = "its transform failed: \(why.message)"
    }
    if let problem {
      o.holds = false
      o.problem = problem
    }
    let subjectName = Self.subjectName(a)
    var finding = Finding(
      label: a.label, kind: a.fullKind, passed: false, message: "", location: a.location,
      score: o.score.map { a.negated ? 1 - $0 : $0 }, reason: o.reason, weight: a.weight)
    finding.turn = a.turn
    finding.metric = a.metric
    if let problem = o.problem {
      finding.message = "expected \(subjectName) \(a.negated ? "not " : "")to \(o.expectation), but \(problem)"
    } else if o.holds != a.negated {
      finding.passed = true
      if o.expectation.hasPrefix("be ") {
        finding.message = "\(subjectName) \(a.negated ? "is not " : "is ")\(o.expectation.dropFirst(3))"
      } else {
        finding.message = "\(subjectName) \(a.negated ? "does not " : "does ")\(o.expectation)"
      }
      // A judge's pass, and an any-of's, says what was found (a score and reason, the member that passed).
      if a.isJudged || a.kind == .anyOf {
        let found = a.negated ? o.ifNot : o.ifHolds
        if !found.isEmpty { finding.message += ": " + found }
      }
    } else if a.negated {
      finding.message = "expected \(subjectName) not to \(o.expectation), but \(o.ifHolds)"
    } else {
      finding.message = "expected \(subjectName) to \(o.expectation), but \(o.ifNot)"
    }
    return finding
  }

  static func subjectName(_ a: Assertion) -> String {
    if a.kind == .exec || a.kind == .anyOf { return "the case" }
    if a.kind == .turnCount || a.kind == .endedBy { return "the conversation" }
    switch a.scope {
    case .final:
      guard a.kind.readsSubject else { return "the response" }
      return "the \(a.subject.rawValue)"
    case .step(let n):
      return "step \(n)'s \(a.kind.readsSubject ? a.subject.rawValue : "response")"
    case .trajectory:
      return "the trajectory"
    case .turn(let n):
      return "turn \(n)'s \(a.kind.readsSubject ? a.subject.rawValue : "response")"
    case .transcript:
      return "the transcript"
    }
  }

  // MARK: Subjects

  /// The texts and parsed JSON of a completion, computed at most once per completion.
  struct Subjects {
    let completion: Completion
    let judgements: [String: Result<Judgement, JudgeError>]
    /// The test's `transform:`, for assertions on the output.
    let testTransforms: [Transform]
    /// A looped case's steps (README "Steps"); empty for a single request.
    var steps: [Step] = []
    /// A conversation case's opening and ending, for `on: turn[N]`, `on: transcript`,
    /// `turn-count` and `ended-by`; nil for other cases.
    var conversation: ConversationFacts?
    /// Which answer these subjects are: the case's final one, a step's, or the trajectory's text.
    var scope = Assertion.Scope.final
    private var responseText: String?
    private var parsed: [Assertion.Subject: Result<JSON, JSONParseError>] = [:]
    private var overrides: [Assertion.Subject: String] = [:]

    init(
      completion: Completion, judgements: [String: Result<Judgement, JudgeError>] = [:],
      testTransforms: [Transform] = []
    ) {
      self.completion = completion
      self.judgements = judgements
      self.testTransforms = testTransforms
    }

    /// The trajectory's tool calls in order: every model step's (a single request: its answer's).
    var trajectoryCalls: [Completion.ToolCall] {
      steps.isEmpty ? completion.toolCalls : steps.flatMap { $0.completion?.toolCalls ?? [] }
    }

    /// How many model calls the case made.
    var modelCalls: Int { steps.isEmpty ? 1 : steps.modelCallCount }

    /// The transforms that apply to an assertion: the test's (on the final output), then its own.
    func transforms(for a: Assertion) -> [Transform] {
      guard a.kind.readsSubject else { return [] }
      return (a.subject == .output && a.scope == .final ? testTransforms : []) + a.transforms
    }

    /// The subjects of step N's answer, or of the trajectory as text; a step the case does not
    /// have is a problem (a single request is one step, its answer).
    func scoped(_ scope: Assertion.Scope) -> Result<Subjects, JudgeError> {
      let all = steps.isEmpty ? [Step.model(completion)] : steps
      let answer: Completion
      switch scope {
      case .final:
        return .success(self)
      case .trajectory:
        answer = Completion(content: ReportStep.transcript(all))
      case .transcript:
        guard let conversation else { return .failure(JudgeError("the case is not a conversation (it has no turns)")) }
        answer = Completion(
          content: TurnView.transcript(opening: conversation.opening, steps: all.map(ReportStep.init)))
      case .turn(let n):
        guard let conversation else { return .failure(JudgeError("the case is not a conversation (it has no turns)")) }
        let turns = TurnView.turns(opening: conversation.opening, steps: all)
        guard n <= turns.count else {
          return .failure(JudgeError("the conversation has \(turns.count) turn\(turns.count == 1 ? "" : "s")"))
        }
        guard let i = turns[n - 1].replyIndex, let reply = all[i].completion else {
          return .failure(JudgeError("turn \(n) has no reply"))
        }
        answer = reply
      case .step(let n):
        guard n <= all.count else {
          return .failure(JudgeError("the case has \(all.count) step\(all.count == 1 ? "" : "s")"))
        }
        let step = all[n - 1]
        switch step.answer {
        case .completion(let c)?:
          answer = c
        case .toolResult(let t)?:
          var response = JSONObject()
          response["name"] = .string(t.name)
          response["arguments"] = .string(t.arguments)
          response["content"] = .string(t.content)
          response["source"] = .string(t.source)
          answer = Completion(
            content: t.content, toolCalls: [Completion.ToolCall(id: t.callID, name: t.name, arguments: t.arguments)],
            response: .object(response), latencyMS: step.durationMS)
        case .text(let t)?:
          answer = Completion(content: t, response: ["content": .string(t)], latencyMS: step.durationMS)
        case nil:
          return .failure(JudgeError("step \(n) has no answer"))
        }
      }
      var inner = Subjects(completion: answer, judgements: judgements, testTransforms: [])
      inner.scope = scope
      return .success(inner)
    }

    /// The assertion's subject after its transforms; nil when none apply.
    mutating func shaped(_ a: Assertion) -> Result<String?, JudgeError> {
      let ts = transforms(for: a)
      guard !ts.isEmpty else { return .success(nil) }
      return Transform.apply(ts, to: text(a.subject)).map { Optional($0) }
    }

    /// The subject's text as the check sees it (transformed when transforms apply).
    mutating func checkedText(_ a: Assertion) -> Result<String, JudgeError> {
      shaped(a).map { $0 ?? text(a.subject) }
    }

    mutating func override(_ s: Assertion.Subject, with text: String) {
      overrides[s] = text
      parsed[s] = nil
    }

    mutating func text(_ s: Assertion.Subject) -> String {
      if let o = overrides[s] { return o }
      switch s {
      case .output: return completion.content
      case .reasoning: return completion.reasoning
      case .response:
        if let responseText { return responseText }
        let t = completion.response.serialized()
        responseText = t
        return t
      }
    }

    mutating func json(_ s: Assertion.Subject) -> Result<JSON, JSONParseError> {
      if s == .response, overrides[s] == nil { return .success(completion.response) }
      if let cached = parsed[s] { return cached }
      let result: Result<JSON, JSONParseError>
      do {
        result = .success(try JSON.parse(text(s)))
      } catch {
        result = .failure(error)
      }
      parsed[s] = result
      return result
    }
  }

  // MARK: Checks

  func outcome(_ a: Assertion, _ subjects: inout Subjects) -> Outcome {
    let c = subjects.completion
    switch a.check {
    case .equals(let expected):
      if a.subject == .response {
        let holds = c.response == expected
        return Outcome(
          holds: holds, expectation: "equal \(Excerpt.json(expected))",
          ifNot: "it is \(Excerpt.json(c.response))", ifHolds: "it does")
      }
      let text = subjects.text(a.subject)
      guard case .string(let e) = expected else { return Outcome(holds: false, expectation: "equal a string") }
      return equalsOutcome(text, e)
    case .contains(let needle):
      return containsOutcome(subjects.text(a.subject), needle, ignoringCase: false)
    case .icontains(let needle):
      return containsOutcome(subjects.text(a.subject), needle, ignoringCase: true)
    case .containsAny(let needles):
      return containsAnyOutcome(subjects.text(a.subject), needles)
    case .icontainsAny(let needles):
      var o = containsAnyOutcome(subjects.text(a.subject).lowercased(), needles.map { $0.lowercased() })
      o.expectation += " (ignoring case)"
      return o
    case .icontainsAll(let needles):
      let text = subjects.text(a.subject)
      let lower = text.lowercased()
      let missing = needles.filter { Self.find($0.lowercased(), in: lower) == nil }
      return Outcome(
        holds: missing.isEmpty, expectation: "contain all of \(Self.list(needles)) (ignoring case)",
        ifNot: "it lacks \(Self.list(missing)); it starts \(Excerpt.start(text))",
        ifHolds: "it contains every one of them")
    case .levenshtein(let value, let limit):
      return levenshteinOutcome(subjects.text(a.subject), value, limit)
    case .wordCount(let lo, let hi):
      let text = subjects.text(a.subject)
      let n = text.split(whereSeparator: { $0.isWhitespace }).count
      let expectation: String
      switch (lo, hi) {
      case (let l?, let h?) where l == h: expectation = "have \(l) words"
      case (let l?, let h?): expectation = "have \(l) to \(h) words"
      case (let l?, nil): expectation = "have at least \(l) words"
      case (nil, let h?): expectation = "have at most \(h) words"
      default: expectation = "have words"
      }
      return Outcome(
        holds: lo.map { n >= $0 } ?? true && hi.map { n <= $0 } ?? true, expectation: expectation,
        ifNot: "it has \(n)", ifHolds: "it has \(n)")
    case .containsJSON(let schema):
      let text = subjects.text(a.subject)
      guard let found = Transform.firstJSON(in: text), let doc = try? JSON.parse(found) else {
        return Outcome(
          holds: false, expectation: "contain JSON",
          ifNot: "it holds no JSON object or array; it starts \(Excerpt.start(text))")
      }
      guard let schema else {
        return Outcome(holds: true, expectation: "contain JSON", ifHolds: "it holds \(Excerpt.json(doc))")
      }
      let problems = JSONSchemaValidator.validate(doc, schema)
      return Outcome(
        holds: problems.isEmpty, expectation: "contain JSON matching the schema",
        ifNot: "its JSON \(Excerpt.json(doc)) does not: \(problems.first ?? "")", ifHolds: "it does")
    case .containsAll(let needles):
      let text = subjects.text(a.subject)
      let missing = needles.filter { Self.find($0, in: text) == nil }
      return Outcome(
        holds: missing.isEmpty, expectation: "contain all of \(Self.list(needles))",
        ifNot: "it lacks \(Self.list(missing)); it starts \(Excerpt.start(text))",
        ifHolds: "it contains every one of them")
    case .startsWith(let prefix):
      let text = subjects.text(a.subject)
      return Outcome(
        holds: text.utf8.starts(with: prefix.utf8), expectation: "start with \(JSON.quoted(prefix))",
        ifNot: "it starts \(Excerpt.start(text))", ifHolds: "it does")
    case .endsWith(let suffix):
      let text = subjects.text(a.subject)
      let holds = text.utf8.count >= suffix.utf8.count && text.utf8.reversed().starts(with: suffix.utf8.reversed())
      return Outcome(
        holds: holds, expectation: "end with \(JSON.quoted(suffix))",
        ifNot: "it ends \(Self.ending(text))", ifHolds: "it does")
    case .regex(let regex):
      let text = subjects.text(a.subject)
      return regexOutcome(text, regex)
    case .length(let lo, let hi):
      return lengthOutcome(subjects.text(a.subject), lo, hi)
    case .isJSON(let schema):
      return isJSONOutcome(a, schema, &subjects)
    case .jsonPath(let check):
      switch subjects.json(a.subject) {
      case .failure(let e):
        var o = Outcome(holds: false, expectation: Self.describe(check))
        o.problem = "it is not valid JSON (\(e.description)); it starts \(Excerpt.start(subjects.text(a.subject)))"
        return o
      case .success(let doc):
        return jsonPathOutcome(check, doc)
      }
    case .finishReason(let expected):
      let actual = c.finishReason
      return Outcome(
        holds: actual == expected, expectation: "finish with \(JSON.quoted(expected))",
        ifNot: actual.map { "it finished with \(JSON.quoted($0))" } ?? "it has no finish reason",
        ifHolds: "it did")
    case .toolCall(let name, let arguments):
      return toolCallOutcome(subjects.trajectoryCalls, name: name, arguments: arguments)
    case .toolSequence(let names, let mode):
      return toolSequenceOutcome(subjects.trajectoryCalls.map(\.name), names, mode)
    case .toolUsed(let name, let lo, let hi):
      return toolUsedOutcome(subjects.trajectoryCalls.map(\.name), name, lo, hi)
    case .stepCount(let lo, let hi):
      return stepCountOutcome(subjects.modelCalls, lo, hi)
    case .turnCount(let lo, let hi):
      return turnCountOutcome(subjects, lo, hi)
    case .endedBy(let ending):
      return endedByOutcome(subjects.conversation, ending)
    case .maxLatencyMS(let limit):
      return Outcome(
        holds: c.latencyMS <= limit, expectation: "take at most \(limit) ms",
        ifNot: "it took \(c.latencyMS) ms", ifHolds: "it took \(c.latencyMS) ms")
    case .maxTokens(let prompt, let completion, let total, let reasoning, let cached):
      return maxTokensOutcome(c, prompt, completion, total, reasoning, cached)
    case .servedModel(let pattern):
      return servedModelOutcome(c, pattern)
    case .servedProvider(let names):
      return servedProviderOutcome(c, names)
    case .llmRubric(let rubric):
      return rubricOutcome(a, rubric, subjects.judgements[a.key])
    case .similar(let similarity):
      return similarOutcome(similarity, subjects.judgements[a.key])
    case .exec(let command):
      return execOutcome(command, subjects.judgements[a.key])
    case .anyOf(let members):
      return anyOfOutcome(members, &subjects)
    case .maxCost(let limit):
      return maxCostOutcome(c, limit)

    }
  }

  func containsAnyOutcome(_ text: String, _ needles: [String]) -> Outcome {
    let expectation = "contain any of \(Self.list(needles))"
    for n in needles {
      if let r = Self.find(n, in: text) {
        return Outcome(
          holds: true, expectation: expectation,
          ifHolds:
            "it contains \(JSON.quoted(n)) at character \(Excerpt.offset(text, r.lowerBound)): \(Excerpt.around(text, r))"
        )
      }
    }
    return Outcome(
      holds: false, expectation: expectation, ifNot: "it contains none of them; it starts \(Excerpt.start(text))")
  }

  /// The edit distance in code points; texts over 5,000 code points are not compared (a bound).
  func levenshteinOutcome(_ text: String, _ value: String, _ limit: Int) -> Outcome {
    let expectation = "be within \(limit) edits of \(Excerpt.start(value))"
    let a = Array(text.unicodeScalars)
    let b = Array(value.unicodeScalars)
    guard a.count <= 5000, b.count <= 5000 else {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem = "it is \(a.count) code points long, over the 5,000 levenshtein compares"
      return o
    }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...max(a.count, 1) where !a.isEmpty {
      current[0] = i
      for j in stride(from: 1, through: b.count, by: 1) {
        current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&previous, &current)
    }
    let d = a.isEmpty ? b.count : previous[b.count]
    return Outcome(
      holds: d <= limit, expectation: expectation, ifNot: "it is \(d) edits away", ifHolds: "it is \(d) edits away")
  }

  func lengthOutcome(_ text: String, _ lo: Int?, _ hi: Int?) -> Outcome {
    let n = Self.codePoints(text)
    let holds = (lo.map { n >= $0 } ?? true) && (hi.map { n <= $0 } ?? true)
    let expectation: String
    switch (lo, hi) {
    case (let l?, let h?): expectation = "be \(l) to \(h) characters long"
    case (let l?, nil): expectation = "be at least \(l) characters long"
    case (nil, let h?): expectation = "be at most \(h) characters long"
    default: expectation = "have a length"
    }
    return Outcome(holds: holds, expectation: expectation, ifNot: "it has \(n)", ifHolds: "it has \(n)")
  }

  func isJSONOutcome(_ a: Assertion, _ schema: JSONSchema?, _ subjects: inout Subjects) -> Outcome {
    let expectation = schema == nil ? "be valid JSON" : "be JSON that validates against the schema"
    switch subjects.json(a.subject) {
    case .failure(let e):
      let text = subjects.text(a.subject)
      return Outcome(
        holds: false, expectation: expectation,
        ifNot: "it is not valid JSON (\(e.description)); it starts \(Excerpt.start(text))")
    case .success(let value):
      guard let schema else { return Outcome(holds: true, expectation: expectation, ifHolds: "it is") }
      let errors = JSONSchemaValidator.validate(value, schema)
      return Outcome(
        holds: errors.isEmpty, expectation: expectation,
        ifNot: "it does not: " + errors.prefix(5).joined(separator: "; ")
          + (errors.count > 5 ? "; and \(errors.count - 5) more" : ""),
        ifHolds: "it does")
    }
  }

  func maxTokensOutcome(
    _ c: Completion, _ prompt: Int?, _ completion: Int?, _ total: Int?, _ reasoning: Int?, _ cached: Int?
  ) -> Outcome {
    var parts: [String] = []
    if let prompt { parts.append("\(prompt) prompt") }
    if let completion { parts.append("\(completion) completion") }
    if let total { parts.append("\(total) total") }
    if let reasoning { parts.append("\(reasoning) reasoning") }
    if let cached { parts.append("\(cached) cached") }
    var o = Outcome(holds: false, expectation: "use at most " + parts.joined(separator: ", ") + " tokens")
    guard let u = c.usage else {
      o.problem = "the response has no usage to check"
      return o
    }
    var over: [String] = []
    var problems: [String] = []
    for (limit, actual, name) in [
      (prompt, u.promptTokens, "prompt"), (completion, u.completionTokens, "completion"),
      (total, u.totalTokens, "total"), (reasoning, u.reasoningTokens, "reasoning"),
      (cached, u.cachedTokens, "cached"),
    ] {
      guard let limit else { continue }
      guard let actual else {
        problems.append("usage has no \(name)_tokens")
        continue
      }
      if actual > limit { over.append("\(name) \(actual)") }
    }
    if !problems.isEmpty {
      o.problem = problems.joined(separator: "; ")
      return o
    }
    var seen =
      "usage is prompt \(u.promptTokens.map(String.init) ?? "?"), completion \(u.completionTokens.map(String.init) ?? "?"), total \(u.totalTokens.map(String.init) ?? "?")"
    if let r = u.reasoningTokens { seen += ", reasoning \(r)" }
    if let k = u.cachedTokens { seen += ", cached \(k)" }
    o.holds = over.isEmpty
    o.ifNot = "it used " + over.joined(separator: ", ") + " (\(seen))"
    o.ifHolds = seen
    return o
  }

  func servedModelOutcome(_ c: Completion, _ pattern: CompiledRegex) -> Outcome {
    let expectation = "be served by a model matching /\(pattern.pattern)/\(pattern.flags)"
    guard let model = c.model else {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem = "the response names no model"
      return o
    }
    do {
      let found = try pattern.firstMatch(in: model, deadline: regexDeadline) != nil
      return Outcome(
        holds: found, expectation: expectation, ifNot: "it was served by \(JSON.quoted(model))",
        ifHolds: "it was served by \(JSON.quoted(model))")
    } catch {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem = error.description
      return o
    }
  }

  func servedProviderOutcome(_ c: Completion, _ names: [String]) -> Outcome {
    let expectation =
      "be served by "
      + (names.count == 1 ? JSON.quoted(names[0]) : "one of " + names.map(JSON.quoted).joined(separator: ", "))
    guard let provider = c.provider else {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem = "the response names no provider (OpenRouter reports one; other servers do not)"
      return o
    }
    return Outcome(
      holds: names.contains(provider), expectation: expectation, ifNot: "it was served by \(JSON.quoted(provider))",
      ifHolds: "it was served by \(JSON.quoted(provider))")
  }

  func maxCostOutcome(_ c: Completion, _ limit: Double) -> Outcome {
    var o = Outcome(holds: false, expectation: "cost at most $\(NumberText.money(limit))")
    guard let cost = c.usage?.cost else {
      o.problem = "the response reports no usage.cost"
      return o
    }
    o.holds = cost <= limit
    o.ifNot = "it cost $\(NumberText.money(cost))"
    o.ifHolds = "it cost $\(NumberText.money(cost))"
    return o
  }

  func equalsOutcome(_ text: String, _ expected: String) -> Outcome {
    let t = Array(text.unicodeScalars)
    let e = Array(expected.unicodeScalars)
    if t == e { return Outcome(holds: true, expectation: "equal \(Excerpt.start(expected))", ifHolds: "it does") }
    var i = 0
    while i < t.count, i < e.count, t[i] == e[i] { i += 1 }
    let idx = text.unicodeScalars.index(text.unicodeScalars.startIndex, offsetBy: i)
    let upper = text.unicodeScalars.index(idx, offsetBy: min(1, t.count - i))
    let seen = i < t.count ? "found \(Excerpt.around(text, idx..<upper))" : "the output ends there"
    return Outcome(
      holds: false, expectation: "equal \(Excerpt.start(expected))",
      ifNot: "they differ at character \(i): \(seen) (\(t.count) characters, expected \(e.count))")
  }

  func containsOutcome(_ text: String, _ needle: String, ignoringCase: Bool) -> Outcome {
    let range = ignoringCase ? Self.findIgnoringCase(needle, in: text) : Self.find(needle, in: text)
    let expectation = "contain \(JSON.quoted(needle))" + (ignoringCase ? " (ignoring case)" : "")
    guard let range else {
      return Outcome(holds: false, expectation: expectation, ifNot: "it does not; it starts \(Excerpt.start(text))")
    }
    return Outcome(
      holds: true, expectation: expectation,
      ifHolds: "it does at character \(Excerpt.offset(text, range.lowerBound)): \(Excerpt.around(text, range))")
  }

  func regexOutcome(_ text: String, _ regex: CompiledRegex) -> Outcome {
    let expectation = "match /\(regex.pattern)/\(regex.flags)"
    do {
      guard let r = try regex.firstMatch(in: text, deadline: regexDeadline) else {
        return Outcome(
          holds: false, expectation: expectation, ifNot: "nothing matches; it starts \(Excerpt.start(text))")
      }
      return Outcome(
        holds: true, expectation: expectation,
        ifHolds: "it matches at character \(Excerpt.offset(text, r.lowerBound)): \(Excerpt.around(text, r))")
    } catch {
      var o = Outcome(holds: false, expectation: expectation)
      o.problem = error.description
      return o
    }
  }

  static func describe(_ check: JSONPathCheck) -> String {
    let p = check.path.expression
    switch check.comparison {
    case .nonEmpty: return "have a node at \(p)"
    case .equals(let v): return "have \(p) equal to \(Excerpt.json(v))"
    case .contains(let v): return "have a node at \(p) equal to \(Excerpt.json(v))"
    case .matches(let r): return "have every node at \(p) be a string matching /\(r.pattern)/\(r.flags)"
    case .count(let n): return "have \(n) node\(n == 1 ? "" : "s") at \(p)"
    case .exists(let b): return b ? "have a node at \(p)" : "have no node at \(p)"
    }
  }

  func jsonPathOutcome(_ check: JSONPathCheck, _ doc: JSON) -> Outcome {
    let nodes: [JSON]
    do {
      nodes = try check.path.select(doc, deadline: regexDeadline)
    } catch {
      var o = Outcome(holds: false, expectation: Self.describe(check))
      o.problem = error.description
      return o
    }
    let seen =
      nodes.isEmpty
      ? "it selects no node"
      : "it selects \(nodes.count) node\(nodes.count == 1 ? "" : "s"): \(Excerpt.json(.array(nodes)))"
    var o = Outcome(holds: false, expectation: Self.describe(check), ifNot: seen, ifHolds: seen)
    switch check.comparison {
    case .nonEmpty: o.holds = !nodes.isEmpty
    case .exists(let b): o.holds = nodes.isEmpty != b
    case .count(let n): o.holds = nodes.count == n
    case .equals(let v):
      o.holds = nodes.count == 1 ? nodes[0] == v : (!nodes.isEmpty && JSON.array(nodes) == v)
    case .contains(let v): o.holds = nodes.contains(v)
    case .matches(let r):
      guard !nodes.isEmpty else { return o }
      for n in nodes {
        guard case .string(let s) = n else {
          o.ifNot = "a node is not a string: \(Excerpt.json(n))"
          return o
        }
        do {
          if try r.firstMatch(in: s, deadline: regexDeadline) == nil {
            o.ifNot = "\(Excerpt.start(s)) does not match"
            return o
          }
        } catch {
          o.problem = error.description
          return o
        }
      }
      o.holds = true
    }
    return o
  }

  func toolCallOutcome(_ calls: [Completion.ToolCall], name: String, arguments: [JSONPathCheck]) -> Outcome {
    var expectation = "call \(name)"
    if !arguments.isEmpty {
      expectation +=
        " with arguments where "
        + arguments.map { Self.describe($0).replacingFirst("have ", with: "") }.joined(separator: " and ")
    }
    let made =
      calls.isEmpty
      ? "it made no tool call"
      : "it called " + calls.map { "\($0.name)(\(Self.shorten($0.arguments)))" }.joined(separator: ", ")
    var reasons: [String] = []
    for call in calls where call.name == name {
      let args: JSON
      do {
        args = try JSON.parse(call.arguments)
      } catch {
        reasons.append("the arguments of \(name) are not valid JSON (\(error.description))")
        continue
      }
      let failed = arguments.map { jsonPathOutcome($0, args) }.filter { !$0.holds }
      if failed.isEmpty {
        return Outcome(holds: true, expectation: expectation, ifHolds: made)
      }
      reasons.append(failed.map { "not \($0.expectation): \($0.problem ?? $0.ifNot)" }.joined(separator: "; "))
    }
    let detail = reasons.isEmpty ? made : made + "; " + reasons.joined(separator: "; ")
    return Outcome(holds: false, expectation: expectation, ifNot: detail)
  }

  // MARK: Helpers

  /// Code points in a text, counted on its UTF-8 bytes (every byte that does not continue a
  /// sequence, `10xxxxxx`), eight bytes at a time.
  static func codePoints(_ text: String) -> Int {
    var t = text
    return t.withUTF8 { bytes in
      let high: UInt64 = 0x8080_8080_8080_8080
      var continuing = 0
      var i = 0
      guard let base = bytes.baseAddress else { return 0 }
      let raw = UnsafeRawPointer(base)
      while i + 8 <= bytes.count {
        let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        // A byte continues a sequence when its top bit is set and the next one is not.
        continuing += (word & high & ~(word << 1)).nonzeroBitCount
        i += 8
      }
      while i < bytes.count {
        if bytes[i] & 0xC0 == 0x80 { continuing += 1 }
        i += 1
      }
      return bytes.count - continuing
    }
  }

  /// Code-point substring search (exact: no canonical-equivalence folding), on the UTF-8 bytes.
  static func find(_ needle: String, in text: String) -> Range<String.Index>? {
    if needle.isEmpty { return text.startIndex..<text.startIndex }
    var t = text
    var n = needle
    let offset: Int? = t.withUTF8 { hay in
      n.withUTF8 { pin -> Int? in
        guard hay.count >= pin.count, let base = hay.baseAddress, let p = pin.baseAddress else { return nil }
        let first = pin[0]
        var i = 0
        let last = hay.count - pin.count
        while i <= last {
          // memchr for the first byte, then compare the rest.
          guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return nil }
          let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
          if memcmp(base + at, p, pin.count) == 0 { return at }
          i = at + 1
        }
        return nil
      }
    }
    guard let offset else { return nil }
    let start = text.utf8.index(text.utf8.startIndex, offsetBy: offset)
    return start..<text.utf8.index(start, offsetBy: needle.utf8.count)
  }

  /// Case-insensitive search with full Unicode case folding ("STRASSE" finds "straße").
  static func findIgnoringCase(_ needle: String, in text: String) -> Range<String.Index>? {
    // ASCII on both sides (the usual case): a byte search, folding A-Z; else Foundation's full folding.
    let n = Array(needle.utf8)
    guard n.allSatisfy({ $0 < 0x80 }), text.utf8.allSatisfy({ $0 < 0x80 }) else {
      return text.range(of: needle, options: [.caseInsensitive])
    }
    @inline(__always) func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }
    let folded = n.map(lower)
    let hay = text.utf8
    if folded.isEmpty { return text.startIndex..<text.startIndex }
    guard hay.count >= folded.count else { return nil }
    var start = hay.startIndex
    var remaining = hay.count
    while remaining >= folded.count {
      var i = start
      var k = 0
      while k < folded.count, lower(hay[i]) == folded[k] {
        i = hay.index(after: i)
        k += 1
      }
      if k == folded.count { return start..<i }
      start = hay.index(after: start)
      remaining -= 1
    }
    return nil
  }

  static func list(_ items: [String]) -> String {
    "[" + items.map { JSON.quoted($0) }.joined(separator: ", ") + "]"
  }

  static func ending(_ text: String) -> String {
    let us = text.unicodeScalars
    if us.count <= 80 { return JSON.quoted(text) }
    return "\"…" + JSON.quoted(String(String.UnicodeScalarView(us.suffix(80)))).dropFirst()
  }

  static func shorten(_ s: String) -> String {
    let us = s.unicodeScalars
    return us.count <= 60 ? s : String(String.UnicodeScalarView(us.prefix(60))) + "…"
  }

}

extension String {
  func replacingFirst(_ target: String, with replacement: String) -> String {
    guard let r = range(of: target) else { return self }
    return replacingCharacters(in: r, with: replacement)
  }
}
