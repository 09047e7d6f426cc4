import Foundation

/// One case as every report shows it: made from a finished case once its repeat group is
/// settled, or read back from a JSON report.
package struct ReportCase: Sendable {
  package struct Assertion: Sendable, Equatable {
    package var kind: String
    package var passed: Bool
    /// `assert[1] contains: expected …`
    package var message: String
    /// The line of the suite file where the assertion is written.
    package var line: Int?
    /// A judged assertion's score and reason (README "Judged assertions").
    package var score: Double? = nil
    package var reason: String? = nil
    /// A conversation's turn check: the turn it checked.
    package var turn: Int? = nil
    /// Its `metric:` label.
    package var metric: String? = nil
  }

  /// One turn of a conversation case (README "Conversations"): the user's message, the reply,
  /// and whether that turn's own checks passed.
  package struct Turn: Sendable, Equatable {
    package var number: Int
    package var user: String
    package var reply: String?
    package var passed: Bool
    /// The turn's first and last step, 1-based (its user step, or step 1 for turn 1).
    package var firstStep: Int
    package var lastStep: Int

    package var json: JSON {
      var o = JSONObject()
      o["turn"] = .int(number)
      o["user"] = .string(user)
      o["reply"] = reply.map { .string($0) } ?? .null
      o["passed"] = .bool(passed)
      o["first_step"] = .int(firstStep)
      o["last_step"] = .int(lastStep)
      return .object(o)
    }

    package init(number: Int, user: String, reply: String?, passed: Bool, firstStep: Int, lastStep: Int) {
      self.number = number
      self.user = user
      self.reply = reply
      self.passed = passed
      self.firstStep = firstStep
      self.lastStep = lastStep
    }

    package init?(json o: JSON) {
      guard case .int(let n)? = o["turn"] else { return nil }
      number = n
      user = o["user"]?.stringValue ?? ""
      reply = o["reply"]?.stringValue
      passed = o["passed"] == .bool(true)
      if case .int(let f)? = o["first_step"] { firstStep = f } else { firstStep = 1 }
      if case .int(let l)? = o["last_step"] { lastStep = l } else { lastStep = firstStep }
    }
  }

  package typealias Usage = Completion.Usage

  /// Position in the unsharded plan.
  package var index: Int
  package var id: String
  package var suite: String
  package var name: String
  package var file: String
  package var line: Int
  package var status: CaseStatus
  package var tolerated: Bool
  package var durationMS: Int
  package var output: String?
  package var reasoning: String?
  /// Why it could not run, or the skip reason.
  package var error: String?
  package var assertions: [Assertion]
  package var golden: GoldenReport
  package var cassette: CassetteReport
  package var attempts: Int
  package var notes: [String]
  package var latencyMS: Int?
  package var model: String?
  package var provider: String?
  package var usage: Usage?
  /// The judges' tokens and cost (grader and embeddings calls).
  package var judgeUsage: Usage?
  /// The weighted score of a test with a `threshold:`.
  package var score: Double?
  /// Re-recorded with a different answer: the diff from the old answer to the new.
  package var recordedChange: String?
  /// The target or prompt version this case is, when the suite compares them; and its row.
  package var column: String?
  package var row: String?
  /// A golden that is missing or differs (and whose case failed): the text a pending file
  /// holds, so `accept --from` can write it from the report alone.
  package var pendingGolden: String?
  package var messages: [JSON]
  /// A case of more than one step: each step (README "Steps"); empty for a single request.
  package var steps: [ReportStep] = []
  /// A conversation case's turns, how it ended, and its simulated user's tokens and cost.
  package var turns: [Turn] = []
  package var endedBy: String?
  package var simulatorUsage: Usage?

  package var failedAssertions: [Assertion] { assertions.filter { !$0.passed } }
  /// Failed (and not tolerated) or errored: what summaries list and the HTML report shows first.
  package var isProblem: Bool { (status == .failed && !tolerated) || status == .errored }
  /// The case's calls' usage: its answer's and its judges'.
  package var allUsage: [Usage] { [usage, judgeUsage, simulatorUsage].compactMap { $0 } }
  /// The case id without its suite: the JUnit testcase name.
  package var shortName: String { id.hasPrefix(suite + "/") ? String(id.dropFirst(suite.count + 1)) : id }

  package init(_ r: CaseResult) {
    let c = r.plannedCase
    index = c.index
    id = c.id
    suite = c.suite
    name = c.testName
    file = c.suiteFile
    line = c.location.line
    status = r.status
    tolerated = r.tolerated
    durationMS = r.durationMS
    output = r.completion?.content
    reasoning = r.completion.flatMap { $0.reasoning.isEmpty ? nil : $0.reasoning }
    error = r.error
    assertions = r.findings.map {
      Assertion(
        kind: $0.kind, passed: $0.passed, message: $0.description, line: $0.location?.line, score: $0.score,
        reason: $0.reason, turn: $0.turn, metric: $0.metric)
    }
    judgeUsage = r.judgeUsage
    score = r.score
    golden = r.golden
    cassette = r.cassette
    attempts = r.attempts
    notes = r.notes
    model = r.completion?.model
    provider = r.completion?.provider
    if let conversation = r.conversation {
      endedBy = conversation.ending?.rawValue
      simulatorUsage = r.steps.simulatorUsage
      turns = TurnView.turns(opening: conversation.opening, steps: r.steps).map { t in
        Turn(
          number: t.number, user: t.user, reply: t.replyIndex.flatMap { r.steps[$0].completion?.content },
          passed: !r.findings.contains { $0.turn == t.number && !$0.passed }, firstStep: t.steps.lowerBound + 1,
          lastStep: t.steps.upperBound)
      }
    }
    if r.steps.count > 1 || r.conversation != nil {
      // The time and tokens of every model call; the model and provider of the final answer.
      steps = r.steps.map(ReportStep.init)
      latencyMS = r.steps.answeredLatencyMS
      usage = r.steps.totalUsage
    } else {
      latencyMS = r.completion?.latencyMS
      usage = r.completion?.usage
    }
    recordedChange = r.recordedChange
    column = c.column
    row = c.column == nil ? nil : c.rowID
    if (r.golden.status == .missing || r.golden.status == .changed) && !r.tolerated { pendingGolden = r.goldenText }
    messages = c.variant.messages
  }

  /// Reads a case of a JSON report; nil when it is not one.
  package init?(json o: JSON, fallbackIndex: Int) {
    guard let id = o["id"]?.stringValue, let status = o["status"]?.stringValue.flatMap(CaseStatus.init(rawValue:))
    else {
      return nil
    }
    func int(_ v: JSON?) -> Int? {
      switch v {
      case .int(let i)?: return i
      case .double(let d)?: return Int(exactly: d)
      default: return nil
      }
    }
    index = int(o["index"]) ?? fallbackIndex
    self.id = id
    suite = o["suite"]?.stringValue ?? ""
    name = o["name"]?.stringValue ?? ""
    file = o["file"]?.stringValue ?? ""
    line = int(o["line"]) ?? 0
    self.status = status
    tolerated = o["tolerated"] == .bool(true)
    durationMS = int(o["duration_ms"]) ?? 0
    output = o["output"]?.stringValue
    reasoning = o["reasoning"]?.stringValue
    error = o["error"]?.stringValue
    assertions = (o["assertions"]?.arrayValue ?? []).map {
      Assertion(
        kind: $0["kind"]?.stringValue ?? "", passed: $0["passed"] == .bool(true),
        message: $0["message"]?.stringValue ?? "", line: int($0["line"]), score: $0["score"]?.numberValue,
        reason: $0["reason"]?.stringValue, turn: int($0["turn"]), metric: $0["metric"]?.stringValue)
    }
    score = o["score"]?.numberValue
    golden = GoldenReport(
      status: o["golden"]?["status"]?.stringValue.flatMap(GoldenReport.Status.init(rawValue:)) ?? .none,
      path: o["golden"]?["path"]?.stringValue, diff: o["golden"]?["diff"]?.stringValue)
    cassette = CassetteReport(
      path: o["cassette"]?["path"]?.stringValue ?? "",
      status: o["cassette"]?["status"]?.stringValue.flatMap(CassetteReport.Status.init(rawValue:)) ?? .none)
    attempts = int(o["attempts"]) ?? 0
    notes = o["notes"]?.arrayValue?.compactMap(\.stringValue) ?? []
    latencyMS = int(o["latency_ms"])
    model = o["model"]?.stringValue
    provider = o["provider"]?.stringValue
    usage = o["usage"].flatMap(ReportStep.usage)
    judgeUsage = o["judge_usage"].flatMap(ReportStep.usage)
    steps = (o["steps"]?.arrayValue ?? []).compactMap(ReportStep.init(json:))
    turns = (o["turns"]?.arrayValue ?? []).compactMap(Turn.init(json:))
    endedBy = o["ended_by"]?.stringValue
    simulatorUsage = o["simulator_usage"].flatMap(ReportStep.usage)
    messages = o["messages"]?.arrayValue ?? []
    recordedChange = o["recorded_change"]?.stringValue
    column = o["target"]?.stringValue
    row = o["row"]?.stringValue
    pendingGolden = o["golden"]?["pending"]?.stringValue
  }
}
