import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckEvaluate

/// Looped cases against the loopback server scripted per step (README "Agents: tool loops").
@Suite struct ToolLoopTests {
  static let tools = """
    defaults:
      params:
        tools:
          - type: function
            function: {name: get_order, parameters: {type: object, properties: {id: {type: string}}}}
          - type: function
            function: {name: refund, parameters: {type: object, properties: {id: {type: string}}}}
    """

  /// The agent: asked a question, it looks the order up; given a tool's result, it answers with it.
  static let agent: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
    let last = request.json?["messages"]?.arrayValue?.last
    if last?["role"] == "tool" {
      return .json(FakeOpenAI.completion("Order A1: " + (last?["content"]?.stringValue ?? "")))
    }
    return .json(FakeOpenAI.toolCalls([("get_order", #"{"id":"A1"}"#)]))
  }

  static func suite(mocks: String = "mocks: {get_order: {status: shipped}}", test: String = "") -> String {
    tools + "\n" + mocks + "\n" + """
      tests:
        - name: order status
          prompt: where is A1?
          assert:
            - contains: shipped
            - tool-sequence: [get_order]
            - tool-used: get_order
            - step-count: 2
            - tool-call: {name: get_order, arguments: [{path: $.id, equals: A1}]}
      \(test)
      """
  }

  func report(_ p: Project) throws -> JSON { try JSON.parse(p.dir.read(".promptcheck/report.json")) }

  @Test func recordsEveryStepAndReplaysWithTheServerGone() async throws {
    let p = try Project(suites: ["agent": Self.suite()], handler: Self.agent)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(p.server.requests.count == 2)
    // The second request carries the assistant's call and the mock's result.
    let second = try #require(p.server.requests.last?.json?["messages"]?.arrayValue)
    #expect(second.count == 3)
    #expect(second[1]["tool_calls"]?.arrayValue?.first?["function"]?["name"] == "get_order")
    #expect(second[1]["content"] == "")
    #expect(second[2] == ["role": "tool", "tool_call_id": "call_1", "content": #"{"status":"shipped"}"#])
    let cassette = try p.dir.read("expectations/cassettes/agent/order-status.yaml")
    #expect(cassette.contains("\nversion: 2\n"))
    #expect(cassette.contains("\nsteps:\n- kind: tool\n"))
    let steps = try #require(report(p)["cases"]?.arrayValue?.first?["steps"]?.arrayValue)
    #expect(steps.map { $0["kind"]?.stringValue } == ["model", "tool", "model"])
    #expect(steps[1]["source"] == "mock", "\(steps)")
    let recorded = try report(p)["cases"]?.arrayValue?.first?["assertions"]
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try report(p)["cases"]?.arrayValue?.first?["assertions"] == recorded)
    #expect(try report(p)["cases"]?.arrayValue?.first?["cassette"]?["status"] == "replayed")
  }

  @Test func recordingAgainUnchangedLeavesTheCassette() async throws {
    let p = try Project(suites: ["agent": Self.suite()], handler: Self.agent)
    #expect(await p.run(["--mode", "record"]).status == 0)
    let before = try p.dir.read("expectations/cassettes/agent/order-status.yaml")
    #expect(await p.run(["--mode", "record"]).status == 0)
    #expect(try report(p)["cases"]?.arrayValue?.first?["cassette"]?["status"] == "unchanged")
    #expect(try p.dir.read("expectations/cassettes/agent/order-status.yaml") == before)
  }

  @Test func aMockEditIsStaleAtTheNextStepAndAutoReRecordsFromThere() async throws {
    let p = try Project(suites: ["agent": Self.suite()], handler: Self.agent)
    #expect(await p.run(["--mode", "record"]).status == 0)
    try p.dir.write("prompts/agent.yaml", Self.suite(mocks: "mocks: {get_order: {status: delayed}}"))
    var r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        #"cassette is stale: step 3: body.messages[2].content: recorded "{\"status\":\"shipped\"}", now "{\"status\":\"delayed\"}" — the result of get_order changed (expectations/cassettes/agent/order-status.yaml); record it with: promptcheck run --mode record --case 'agent/order-status'"#
      ), "\(r.stdout)")
    // auto keeps step 1 (replayed) and calls from step 3 on: one request.
    let before = p.server.requests.count
    r = await p.run(["--mode", "auto"])
    #expect(r.status == 1, "\(r.stdout)")  // the answer now says delayed: contains shipped fails
    #expect(p.server.requests.count == before + 1)
    #expect(r.stdout.contains("note: re-recorded from step 3: body.messages[2].content"), "\(r.stdout)")
    #expect(
      try p.dir.read("expectations/cassettes/agent/order-status.yaml").contains(#"Order A1: {"status":"delayed"}"#))
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 1)
    #expect(r.stdout.contains(#"step 3 model → "Order A1: {\"status\":\"delayed\"}""#), "\(r.stdout)")
  }

  @Test func aPromptEditIsStaleAtTheFirstStep() async throws {
    let p = try Project(suites: ["agent": Self.suite()], handler: Self.agent)
    #expect(await p.run(["--mode", "record"]).status == 0)
    try p.dir.write(
      "prompts/agent.yaml",
      Self.suite().replacingOccurrences(of: "prompt: where is A1?", with: "prompt: where is my order A1?"))
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(r.stdout.contains(#"cassette is stale: body.messages[0].content"#), "\(r.stdout)")
  }

  @Test func trajectoryAssertionsFailWithWhatWasCalled() async throws {
    let failing = Self.suite().replacingOccurrences(
      of: "      - tool-sequence: [get_order]\n      - tool-used: get_order\n      - step-count: 2\n",
      with: """
              - tool-sequence: [get_order, refund]
              - {tool-sequence: {steps: [refund], mode: subset}}
              - tool-used: {name: get_order, min: 2}
              - step-count: {max: 1}
              - not-tool-used: refund
              - {tool-sequence: {steps: [get_order], mode: in-order}}
              - {tool-sequence: {steps: [get_order], mode: any-order}}
              - {tool-sequence: {steps: [get_order, get_order], mode: any-order}}
              - {not-tool-sequence: {steps: [refund], mode: in-order}}

        """)
    let p = try Project(suites: ["agent": failing], handler: Self.agent)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1)
    let messages = try report(p)["cases"]?.arrayValue?.first?["assertions"]?.arrayValue?.map {
      "\($0["passed"] == .bool(true) ? "pass" : "FAIL") \($0["message"]?.stringValue ?? "")"
    }
    #expect(
      messages == [
        "pass assert[0] contains: the output does contain \"shipped\"",
        "FAIL assert[1] tool-sequence: expected the response to call the tools [get_order, refund], exactly in this order, but it called [get_order]",
        "FAIL assert[2] tool-sequence: expected the response to call no tool but [refund], but it called [get_order]",
        "FAIL assert[3] tool-used: expected the response to call get_order at least 2 times, but it called get_order once (calls: [get_order])",
        "FAIL assert[4] step-count: expected the response to take at most 1 model calls, but it took 2",
        "pass assert[5] not-tool-used: the response does not call refund",
        "pass assert[6] tool-sequence: the response does call the tools [get_order] in this order",
        "pass assert[7] tool-sequence: the response does call the tools [get_order], in any order",
        "FAIL assert[8] tool-sequence: expected the response to call the tools [get_order, get_order], in any order, but it called [get_order]",
        "pass assert[9] not-tool-sequence: the response does not call the tools [refund] in this order",
        "pass assert[10] tool-call: the response does call get_order with arguments where $.id equal to \"A1\"",
      ], "\(messages ?? [])")
  }

  @Test func mockCasesAnswerByArgumentsAndANonMatchErrors() async throws {
    let cases = """
      mocks:
        get_order:
          - {when: [{path: $.id, equals: B2}], result: {status: lost}}
          - {when: [{path: $.id, equals: A1}], result: "shipped on {{day}}"}
      """
    var p = try Project(
      suites: [
        "agent": Self.suite(mocks: cases).replacingOccurrences(
          of: "prompt: where is A1?", with: "prompt: where is A1?\n    vars: {day: Monday}")
      ],
      handler: Self.agent)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try report(p)["cases"]?.arrayValue?.first?["output"] == "Order A1: shipped on Monday")
    let unmatched = """
      mocks:
        get_order:
          - {when: [{path: $.id, equals: B2}], result: lost}
          - {when: [$.missing], result: found}
      """
    p = try Project(suites: ["agent": Self.suite(mocks: unmatched)], handler: Self.agent)
    r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        #"step 2: the model called get_order({"id":"A1"}), which no case of the get_order mock matches: case 1 needs $.id equal to "B2"; case 2 needs a node at $.missing"#
      ), "\(r.stdout)")
    #expect(!p.dir.exists("expectations/cassettes/agent/order-status.yaml"))
  }

  @Test func anUnknownToolOrBadArgumentsErrorTheCaseNamingTheStep() async throws {
    let calls: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
      let text = request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue ?? ""
      return .json(FakeOpenAI.toolCalls([text == "bad" ? ("get_order", "{id: A1") : ("get_time", "{}")]))
    }
    let suite =
      Self.tools + "\nmocks: {get_order: x}\n" + """
        tests:
          - {name: unknown, prompt: time}
          - {name: malformed, prompt: bad}
        """
    let p = try Project(suites: ["agent": suite], handler: calls)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "step 2: the model called get_time({}), but no mock or MCP server answers get_time (tools answered: get_order)"),
      "\(r.stdout)")
    #expect(
      r.stdout.contains("step 2: the model called get_order({id: A1), whose arguments are not JSON ("), "\(r.stdout)")
  }

  @Test func maxStepsFailsTheCaseWithItsTrajectoryAndFirstStepIsSentOnce() async throws {
    let always: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { _, _ in
      .json(FakeOpenAI.toolCalls([("get_order", #"{"id":"A1"}"#)]))
    }
    let suite =
      Self.tools + "\nmocks: {get_order: ok}\n" + """
        tests:
          - name: loops
            prompt: go
            loop: {max_steps: 2, first_step: {tool_choice: {type: function, function: {name: get_order}}}}
        """
    let p = try Project(suites: ["agent": suite], handler: always)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(p.server.requests.count == 2)
    #expect(p.server.requests.first?.json?["tool_choice"] != nil)
    #expect(p.server.requests.last?.json?["tool_choice"] == nil)
    #expect(
      r.stdout.contains(
        """
            prompts/agent.yaml:10: loop max-steps: the model still called tools after 2 model calls (loop.max_steps); it called get_order last
              step 1 model → calls get_order({"id":"A1"})
              step 2 tool → get_order({"id":"A1"}) = "ok" (mock)
              step 3 model → calls get_order({"id":"A1"})

        """), "\(r.stdout)")
  }

  @Test func anExecToolIsRunWhenRecordingAndReplayedWithoutRunningIt() async throws {
    let p = try Project(suites: [:], handler: Self.agent)
    let exec = """
      mocks:
        get_order: {exec: "cat > '\(p.dir.url.path)/exec-input.json'; echo '{\\"status\\":\\"shipped\\"}'", timeout_ms: 5000}
      """
    try p.dir.write("prompts/agent.yaml", Self.suite(mocks: exec))
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    let input = try JSON.parse(p.dir.read("exec-input.json"))
    #expect(input["name"] == "get_order")
    #expect(input["arguments"] == ["id": "A1"])
    #expect(input["step"] == 2)
    #expect(input["case"] == "agent/order-status")
    #expect(try report(p)["cases"]?.arrayValue?.first?["steps"]?.arrayValue?[1]["source"] == "exec")
    try FileManager.default.removeItem(at: p.dir.url.appendingPathComponent("exec-input.json"))
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(!p.dir.exists("exec-input.json"))
  }

  @Test func anExecToolThatHangsIsKilledAtItsTimeout() async throws {
    let exec = "mocks:\n  get_order: {exec: \"sleep 30\", timeout_ms: 200}\n"
    let p = try Project(suites: ["agent": Self.suite(mocks: exec)], handler: Self.agent)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        #"step 2: the model called get_order({"id":"A1"}): `sleep 30` ran longer than 200 ms (timeout_ms) and was killed"#
      ), "\(r.stdout)")
  }

  @Test func onStepAndOnTrajectoryReadThatAnswer() async throws {
    let suite =
      Self.tools + "\nmocks: {get_order: {status: shipped}}\n" + """
        tests:
          - name: order status
            prompt: where is A1?
            repeat: 2
            assert:
              - {on: "step[2]", contains: shipped}
              - {on: "step[2].response", icontains: mock}
              - {on: "step[1]", tool-call: {name: get_order}}
              - {on: "step[3]", not-tool-call: {name: get_order}}
              - {on: "step[4]", contains: shipped}
              - {on: trajectory, contains: 'step 2 tool get_order ← {"status":"shipped"} (mock)'}
              - {on: trajectory, llm-rubric: The agent looked the order up before answering}
        """
    let graded = Mutex<[String]>([])
    let handler: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, n in
      let messages = request.json?["messages"]?.arrayValue ?? []
      guard messages.first?["content"]?.stringValue == Judging.graderInstructions else {
        return Self.agent(request, n)
      }
      let subject = messages.last?["content"]?.stringValue ?? ""
      graded.withLock { $0.append(subject) }
      let looked = subject.contains("step 1 model → calls get_order") && subject.contains("step 3 model → Order A1")
      return .json(FakeOpenAI.completion(#"{"pass": \#(looked), "score": 1, "reason": "read the trajectory"}"#))
    }
    let p = try Project(suites: ["agent": suite], handler: handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)")
    let cases = try #require(report(p)["cases"]?.arrayValue)
    #expect(cases.count == 2)
    let messages = cases[0]["assertions"]?.arrayValue?.map {
      "\($0["passed"] == .bool(true) ? "pass" : "FAIL") \($0["message"]?.stringValue ?? "")"
    }
    #expect(
      messages == [
        "pass assert[0] contains: step 2's output does contain \"shipped\"",
        "pass assert[1] icontains: step 2's response does contain \"mock\" (ignoring case)",
        "pass assert[2] tool-call: step 1's response does call get_order",
        "pass assert[3] not-tool-call: step 3's response does not call get_order",
        "FAIL assert[4] contains: expected step 4's output to contain \"shipped\", but the case has 3 steps",
        "pass assert[5] contains: the trajectory does contain \"step 2 tool get_order ← {\\\"status\\\":\\\"shipped\\\"} (mock)\"",
        "pass assert[6] llm-rubric: the trajectory does meet the rubric \"The agent looked the order up before answering\": the grader says it does (score 1): \"read the trajectory\"",
      ], "\(messages ?? [])")
    #expect(graded.withLock { $0.count } == 2)
    #expect(cases[1]["assertions"] == cases[0]["assertions"])
    // Replayed with the server gone, the judge's verdict on the trajectory comes from the cassette.
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 1)
    #expect(try report(p)["cases"]?.arrayValue?.map { $0["assertions"] } == cases.map { $0["assertions"] })
  }

  @Test func maxCostReservesEachModelCallOfALoop() async throws {
    // $1,000 per million tokens and max_tokens 5: each call reserves its worst case before it is sent.
    let p = try Project(
      suites: ["agent": Self.suite().replacingOccurrences(of: "  params:\n", with: "  params:\n    max_tokens: 5\n")],
      providerExtra: "    pricing: {prompt: 1000, completion: 1000}", handler: Self.agent)
    let r = await p.run(["--mode", "live", "--max-cost", "0.015"])
    #expect(r.status == 3, "\(r.stdout)")
    #expect(p.server.requests.count == 1)
    #expect(r.stdout.contains("budget exhausted: not sent"), "\(r.stdout)")
    let c = try #require(report(p)["cases"]?.arrayValue?.first)
    #expect(c["error"]?.stringValue?.hasPrefix("step 3: budget exhausted") == true, "\(c)")
  }

  @Test func aToolResultHoldingTheKeyLeavesItNowhere() async throws {
    let suite = Self.suite(mocks: "mocks: {get_order: \"shipped, token sk-test-0123456789abcdef\"}")
    let p = try Project(suites: ["agent": suite], handler: Self.agent)
    let r = await p.run(["--mode", "record", "--junit", "j.xml"])
    #expect(r.status == 0, "\(r.stdout)")
    // The model was sent the result as the tool gave it.
    #expect(
      p.server.requests.last?.json?["messages"]?.arrayValue?.last?["content"]?.stringValue?.contains("sk-test") == true)
    for file in [".promptcheck/report.json", "j.xml", "expectations/cassettes/agent/order-status.yaml"] {
      let text = try p.dir.read(file)
      #expect(!text.contains("sk-test-0123456789abcdef"), "\(file)")
      #expect(file == "j.xml" || text.contains("<redacted>"), "\(file)")
    }
    #expect(!r.stdout.contains("sk-test-0123456789abcdef"))
    // Replayed, the recorded (redacted) result matches what is sent again.
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 0)
    #expect(try report(p)["cases"]?.arrayValue?.first?["cassette"]?["status"] == "replayed")
  }

  @Test func onRefusesWhatItCannotRead() throws {
    let (_, errors) = loadSuite(
      Self.tools + "\nmocks: {get_order: x}\n" + """
        tests:
          - name: a
            prompt: x
            assert:
              - {on: "step[0]", contains: x}
              - {on: "step[2].text", contains: x}
              - {on: "step[2]", step-count: 2}
              - {on: "step[2].response", finish-reason: stop}
              - {on: trajectory, tool-call: {name: get_order}}
        """)
    #expect(
      errors == [
        "prompts/s.yaml:13:14: error: assert[0].on must be output, reasoning, response, trajectory, transcript, step[N] or turn[N] (optionally step[N].response), found 'step[0]'",
        "prompts/s.yaml:14:14: error: assert[1].on must be output, reasoning, response, trajectory, transcript, step[N] or turn[N] (optionally step[N].response), found 'step[2].text'",
        "prompts/s.yaml:15:14: error: 'on: step[N]' does not apply to step-count, which reads the whole case",
        "prompts/s.yaml:16:14: error: 'on' does not apply to finish-reason, which reads the response's metadata",
        "prompts/s.yaml:17:14: error: 'on: trajectory' does not apply to tool-call, which does not read a text",
      ], "\(errors)")
  }

  @Test func loaderRefusesMocksItCannotUse() throws {
    let (_, errors) = loadSuite(
      Self.tools + "\nmocks: {get_ordr: x, refund: null}\n" + """
        tests:
          - {name: a, prompt: x, loop: {max_steps: 0}}
          - {name: b, prompt: x, params: {tools: []}, mocks: {c: [{when: $.x, result: y}]}}
        """)
    #expect(
      errors == [
        "prompts/s.yaml:8:8: error: mocks.get_ordr answers a tool the model is not offered; did you mean 'get_order'?",
        "prompts/s.yaml:8:30: error: mocks.refund needs a result (a string, a value, cases or {exec: COMMAND})",
        "prompts/s.yaml:10:44: error: loop.max_steps must be at least 1, found 0",
        "prompts/s.yaml:11:54: error: a looped test offers the model its tools in params.tools (under defaults.params for all tests)",
        "prompts/s.yaml:11:66: error: mocks.c[0].when must be a list, found the string '$.x'",
      ], "\(errors)")
  }
}
