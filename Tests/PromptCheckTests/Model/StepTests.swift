import Foundation
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckExecute
@testable import PromptCheckPlan
@testable import PromptCheckReport

/// A case as a sequence of steps (README "Steps"): a single request is one model step and reads,
/// reports and records as before; a case of several steps reports and records each one.
@Suite struct StepTests {
  static func answer(_ content: String, calls: [Completion.ToolCall] = [], tokens: Int, ms: Int) -> Completion {
    var c = Completion(
      content: content, toolCalls: calls,
      usage: Completion.Usage(promptTokens: tokens, completionTokens: 1, totalTokens: tokens + 1),
      model: "m1", latencyMS: ms)
    c.response = [
      "id": "r", "model": "m1",
      "choices": [["message": ["role": "assistant", "content": .string(content)], "finish_reason": "stop"]],
    ]
    return c
  }

  /// model calls get_order → the mock answers → model answers.
  static func threeSteps() -> [Step] {
    let call = Completion.ToolCall(id: "call_1", name: "get_order", arguments: #"{"id":"A1"}"#)
    return [
      .model(answer("", calls: [call], tokens: 10, ms: 100)),
      Step(
        kind: .tool, request: ["name": "get_order"],
        answer: .toolResult(
          Step.ToolResult(
            callID: "call_1", name: "get_order", arguments: #"{"id":"A1"}"#, content: #"{"status":"shipped"}"#,
            source: "mock")), durationMS: 0),
      .model(answer("Your order A1 has shipped.", tokens: 20, ms: 200)),
    ]
  }

  func result(_ steps: [Step], outcome: CaseOutcome = .failed) throws -> CaseResult {
    let t = try loadTest("tests:\n  - name: order\n    prompt: where is A1?\n")
    let c = Planner.plan([Suite(name: "s", file: "prompts/s.yaml", tests: [t])], PlanOptions())[0]
    var r = CaseResult(
      plannedCase: c, outcome: outcome, findings: [], durationMS: 5, attempts: 0,
      cassette: CassetteReport(path: "p", status: .replayed), golden: GoldenReport(status: .none))
    r.steps = steps
    return r
  }

  @Test func aSingleRequestIsOneModelStepAndReportsNoSteps() throws {
    var r = try result([])
    r.completion = Self.answer("hi", tokens: 3, ms: 40)
    r.judgeUsage = Completion.Usage(promptTokens: 7)
    #expect(r.steps.count == 1)
    #expect(r.steps[0].kind == .model)
    #expect(r.steps[0].judgeUsage?.promptTokens == 7)
    #expect(r.completion?.content == "hi")
    let report = ReportCase(r)
    #expect(report.steps.isEmpty)
    #expect(report.latencyMS == 40)
    #expect(report.usage?.totalTokens == 4)
    let json = JSONReport.render(
      Report(startedAt: Date(timeIntervalSince1970: 0), durationMS: 1, mode: "replay", cases: [report]))
    #expect(!json.contains("\"steps\""))
  }

  @Test func theFinalAnswerIsWhatAssertionsSeeAndTheJudgesStayOnTheirStep() throws {
    var r = try result(Self.threeSteps())
    #expect(r.completion?.content == "Your order A1 has shipped.")
    r.judgeUsage = Completion.Usage(promptTokens: 50, totalTokens: 50)
    #expect(r.steps[2].judgeUsage?.promptTokens == 50)
    #expect(r.steps[0].judgeUsage == nil)
    r.steps[0].judgeUsage = Completion.Usage(promptTokens: 5, totalTokens: 5)
    #expect(r.judgeUsage?.promptTokens == 55)
    #expect(r.steps.modelCallCount == 2)
    #expect(r.steps.toolResults.map(\.name) == ["get_order"])
  }

  @Test func reportsSumTheStepsAndListThem() throws {
    let report = ReportCase(try result(Self.threeSteps()))
    #expect(report.usage == Completion.Usage(promptTokens: 30, completionTokens: 2, totalTokens: 32))
    #expect(report.latencyMS == 300)
    #expect(report.output == "Your order A1 has shipped.")
    #expect(
      report.steps.enumerated().map { $1.line(number: $0 + 1) } == [
        #"step 1 model → calls get_order({"id":"A1"})"#,
        #"step 2 tool → get_order({"id":"A1"}) = "{\"status\":\"shipped\"}" (mock)"#,
        #"step 3 model → "Your order A1 has shipped.""#,
      ])
    // The JSON report lists them, and reads them back the same.
    let text = JSONReport.render(
      Report(startedAt: Date(timeIntervalSince1970: 0), durationMS: 1, mode: "replay", cases: [report]))
    let back = try #require(JSON.parse(text)["cases"]?.arrayValue?.first)
    #expect(back["steps"]?.arrayValue?.map { $0["kind"]?.stringValue } == ["model", "tool", "model"])
    #expect(back["steps"]?.arrayValue?[1]["source"] == "mock")
    #expect(ReportCase(json: back, fallbackIndex: 0)?.steps == report.steps)
    // JUnit's system-out and the HTML report show the trajectory too.
    let junit = JUnitReport.render(
      Report(startedAt: Date(timeIntervalSince1970: 0), durationMS: 1, mode: "replay", cases: [report]))
    #expect(junit.contains(#"steps:\#nstep 1 model → calls get_order({"id":"A1"})\#n"#))
    let html = HTMLReport.render(
      Report(startedAt: Date(timeIntervalSince1970: 0), durationMS: 1, mode: "replay", cases: [report]))
    #expect(html.contains("<summary>Steps</summary><ol class=\"steps\"><li><pre>step 1 model → calls get_order("))
  }

  @Test func aFailedCaseOfSeveralStepsShowsItsTrajectoryOnTheTerminal() throws {
    let sink = Sink()
    let r = TerminalReporter(style: .init(isTTY: false, color: false)) { sink.write($0) }
    var failed = try result(Self.threeSteps())
    failed.findings = [
      Finding(
        label: "assert[0]", kind: "contains", passed: false, message: "expected the output to contain \"A2\"",
        location: SourceLocation(file: "prompts/s.yaml", line: 4, column: 9))
    ]
    r.handle(.runStarted(RunStart(startedAt: Date(), caseCount: 1, mode: .replay)))
    r.handle(.caseFinished(failed, completed: 1, total: 1))
    finishRun(r, [failed], durationMS: 10, mode: .replay)
    #expect(
      sink.value == #"""
        promptcheck 0.1.0: 1 case (mode replay)
        FAIL  s/order  5 ms, replayed

        FAIL  s/order  5 ms, replayed
            prompts/s.yaml:4: assert[0] contains: expected the output to contain "A2"
              step 1 model → calls get_order({"id":"A1"})
              step 2 tool → get_order({"id":"A1"}) = "{\"status\":\"shipped\"}" (mock)
              step 3 model → "Your order A1 has shipped."

        0 passed, 1 failed, 0 errored, 0 skipped in 0.01 s
        tokens: 30 prompt, 2 completion (as recorded)

        """#)
  }
}

/// A cassette of several steps (format 2) beside the single request's (format 1, unchanged).
@Suite struct CassetteStepTests {
  static func cassette() -> Cassette {
    let body: JSON = [
      "model": "m1",
      "choices": [
        [
          "message": [
            "role": "assistant", "content": .null,
            "tool_calls": [
              ["id": "call_1", "type": "function", "function": ["name": "get_order", "arguments": #"{"id":"A1"}"#]]
            ],
          ], "finish_reason": "tool_calls",
        ]
      ],
    ]
    var c = Cassette(
      caseID: "s/order", recordedAtText: "2026-12-07T00:00:00Z", durationMS: 100, method: "POST",
      url: "http://127.0.0.1:1/v1/chat/completions", requestHeaders: [], requestBody: ["model": "m1"], status: 200,
      responseHeaders: [], body: body, events: nil)
    let steps = StepTests.threeSteps()
    c.steps = [
      Cassette.StepRecord(steps[1]),
      Cassette.StepRecord(
        kind: .model, durationMS: 200,
        request: ["method": "POST", "url": "http://127.0.0.1:1/v1/chat/completions", "body": ["model": "m1"]],
        response: [
          "status": 200,
          "body": [
            "model": "m1",
            "choices": [
              [
                "message": ["role": "assistant", "content": "Your order A1 has shipped."], "finish_reason": "stop",
              ]
            ],
          ],
        ]),
    ]
    c.judges = [
      Cassette.JudgeRecord(
        assertion: "assert[1] (llm-rubric)", url: "http://127.0.0.1:1/v1/chat/completions", requestBody: ["a": 1],
        status: 200, body: ["b": 2], durationMS: 3, step: 3)
    ]
    return c
  }

  @Test func aCassetteOfStepsIsFormatTwoAndReplaysEveryStep() throws {
    let yaml = try Self.cassette().yaml(redacting: .none)
    #expect(yaml.contains("\nversion: 2\n"))
    #expect(yaml.contains("\nsteps:\n- kind: tool\n"))
    let back = try Cassette.parse(yaml, file: "c.yaml")
    #expect(back.steps.count == 2)
    #expect(back.judges.first?.step == 3)
    #expect(back.sameInteraction(as: Self.cassette()))
    let steps = try back.replayedSteps().get()
    #expect(steps.map(\.kind) == [.model, .tool, .model])
    #expect(steps[0].completion?.toolCalls.first?.name == "get_order")
    #expect(steps.toolResults.first?.content == #"{"status":"shipped"}"#)
    #expect(steps[2].completion?.content == "Your order A1 has shipped.")
    // Written again, it is the same file.
    #expect(try back.yaml(redacting: .none) == yaml)
  }

  @Test func aSingleRequestStaysFormatOneWithoutSteps() throws {
    var c = Self.cassette()
    c.steps = []
    c.judges[0].step = nil
    let yaml = try c.yaml(redacting: .none)
    #expect(yaml.contains("\nversion: 1\n"))
    #expect(!yaml.contains("steps") && !yaml.contains("step:"))
    #expect(try Cassette.parse(yaml, file: "c.yaml").steps.isEmpty)
    // Changing a step's result is a different interaction (it is recorded again).
    var other = Self.cassette()
    other.steps[0].response = ["content": "{}", "source": "mock"]
    #expect(!Self.cassette().sameInteraction(as: other))
  }

  /// The cassette's document with `edit` applied, as a file.
  static func edited(_ edit: (inout JSONObject) -> Void) throws -> String {
    let yaml = try cassette().yaml(redacting: .none)
    guard case .object(var root) = try YAMLParser.parseJSON(bytes: Array(yaml.utf8), file: "c.yaml") else {
      throw CancellationError()
    }
    edit(&root)
    return try YAMLEmitter.emit(.object(root))
  }

  /// One way to break a format 2 cassette, and what reading it says.
  enum Breakage: CaseIterable, Sendable {
    case noSteps, stepsInFormatOne, emptySteps, unknownKind, toolWithoutName, textStatus, negativeDuration
    case judgeOfAnUnrecordedStep

    var message: String {
      switch self {
      case .noSteps: "a format 2 cassette lists its 'steps'"
      case .stepsInFormatOne: "'steps' needs cassette format version 2, found version 1"
      case .emptySteps: "steps must be a non-empty list, found []"
      case .unknownKind: "steps[0].kind must be model, tool, user, app or target, found 'robot'"
      case .toolWithoutName: "steps[0].request.name is missing"
      case .textStatus: "steps[0].response.status must be an integer"
      case .negativeDuration: "steps[0].duration_ms must be an integer"
      case .judgeOfAnUnrecordedStep: "a judge call names step 4, but the cassette records 3"
      }
    }

    func apply(_ o: inout JSONObject) {
      switch self {
      case .noSteps: o["steps"] = nil
      case .stepsInFormatOne: o["version"] = 1
      case .emptySteps: o["steps"] = []
      case .unknownKind: o["steps"] = [["kind": "robot", "response": [:]]]
      case .toolWithoutName: o["steps"] = [["kind": "tool", "response": ["content": "x", "source": "mock"]]]
      case .textStatus:
        o["steps"] = [
          ["kind": "model", "request": ["url": "u", "body": [:]], "response": ["status": "ok", "body": [:]]]
        ]
      case .negativeDuration: o["steps"] = [["kind": "user", "duration_ms": -1, "response": ["content": "x"]]]
      case .judgeOfAnUnrecordedStep:
        o["judges"] = [
          ["assert": "a", "step": 4, "request": ["url": "u", "body": [:]], "response": ["status": 200, "body": [:]]]
        ]
      }
    }
  }

  @Test(arguments: Breakage.allCases)
  func aBrokenStepIsNamed(_ breakage: Breakage) throws {
    let yaml = try Self.edited(breakage.apply)
    #expect(throws: Cassette.ReadError(message: "c.yaml: error: " + breakage.message)) {
      try Cassette.parse(yaml, file: "c.yaml")
    }
  }

  @Test func aCassetteOfStepsDoesNotReplayASingleRequest() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    #expect(await p.run(["--mode", "record"]).status == 0)
    let path = "expectations/cassettes/basic/greets.yaml"
    let recorded = try p.dir.read(path)
    try p.dir.write(
      path,
      recorded.replacingOccurrences(of: "\nversion: 1\n", with: "\nversion: 2\n")
        + "steps:\n- kind: user\n  response: {content: more}\n")
    let r = await p.run(["--mode", "replay", "--case", "basic/greets"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "    prompts/basic.yaml:2: cassette is stale: it records 2 steps; this case is a single request "
          + "(expectations/cassettes/basic/greets.yaml); record it with: promptcheck run --mode record --case 'basic/greets'\n"
      ), "\(r.stdout)")
  }
}
