import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore

/// Conversation cases against the loopback server (README "Conversations"): scripted turns,
/// a turn that is a tool loop, a simulated user, replay, staleness and `auto` from a turn.
@Suite struct ConversationTests {
  /// A support bot that remembers the order number said earlier; and, when the system message is
  /// the simulator's, a user who asks about order A1 and stops after the bot has answered twice.
  static let bot: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
    let messages = request.json?["messages"]?.arrayValue ?? []
    let system = messages.first?["content"]?.stringValue ?? ""
    if system.hasPrefix("You are role-playing a user") {
      // The bot's replies are the simulator's "user" messages.
      let replies = messages.filter { $0["role"] == "user" }.count
      let lines = ["My order is A1, where is it?", "Thanks, when will it arrive?"]
      return .json(FakeOpenAI.completion(replies > lines.count ? "###STOP###" : lines[replies - 1]))
    }
    let last = messages.last
    if last?["role"] == "tool" {
      return .json(FakeOpenAI.completion("Order A1: " + (last?["content"]?.stringValue ?? "")))
    }
    let said = (last?["content"]?.stringValue ?? "").lowercased()
    let earlier = messages.dropLast().filter { $0["role"] == "user" }.compactMap { $0["content"]?.stringValue }
    if said.contains("status"), request.json?["tools"] != nil {
      return .json(FakeOpenAI.toolCalls([("get_order", #"{"id":"A1"}"#)]))
    }
    if said.contains("what was my order") {
      let known = earlier.contains { $0.contains("A1") }
      return .json(FakeOpenAI.completion(known ? "Your order was A1." : "I do not know your order."))
    }
    if said.contains("a1") { return .json(FakeOpenAI.completion("Order A1 is on its way.")) }
    return .json(FakeOpenAI.completion("Hello! How can I help?"))
  }

  static func scripted(
    onFailure: String = "stop", third: String = "what was my order?", system: String = "You are a support bot."
  )
    -> String
  {
    """
    tests:
      - name: remembers the order
        system: \(system)
        on_turn_failure: \(onFailure)
        turns:
          - user: Hello
            assert: [{icontains: hello}]
          - user: my order is A1
            assert: [{contains: delivered}]
          - user: \(third)
            assert: [{contains: A1}]
        assert:
          - contains: A1
    """
  }

  func report(_ p: Project) throws -> JSON { try JSON.parse(p.dir.read(".promptcheck/report.json")) }
  func firstCase(_ p: Project) throws -> JSON { try #require(report(p)["cases"]?.arrayValue?.first) }

  @Test func aFailingMiddleTurnStopsTheConversation() async throws {
    let p = try Project(suites: ["chat": Self.scripted()], handler: Self.bot)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)")
    // Turn 3 was never sent.
    #expect(p.server.requests.count == 2)
    let c = try firstCase(p)
    #expect(c["steps"]?.arrayValue?.map { $0["kind"]?.stringValue } == ["model", "user", "model"])
    let assertions = try #require(c["assertions"]?.arrayValue)
    #expect(
      assertions.map { $0["message"]?.stringValue } == [
        #"turn 1 assert[0] icontains: the output does contain "hello" (ignoring case)"#,
        #"turn 2 assert[0] contains: expected the output to contain "delivered", but it does not; it starts "Order A1 is on its way.""#,
        #"assert[0] contains: the output does contain "A1""#,
      ], "\(assertions)")
    #expect(c["ended_by"] == "turn_failure")
    let turns = try #require(c["turns"]?.arrayValue)
    #expect(turns.map { $0["passed"] } == [true, false])
    #expect(turns[1]["user"] == "my order is A1")
    #expect(turns[1]["reply"] == "Order A1 is on its way.")
    // The terminal shows the failing turn with the turn before it.
    #expect(
      r.stdout.contains(
        """
              turn 1 user: Hello
              turn 1 assistant: Hello! How can I help?
            ✗ turn 2 user: my order is A1
              turn 2 assistant: Order A1 is on its way.
              ended by turn_failure after 2 turns

        """), "\(r.stdout)")
  }

  @Test func continueGoesOnAfterAFailingTurnAndTheLaterTurnsRemember() async throws {
    let p = try Project(suites: ["chat": Self.scripted(onFailure: "continue")], handler: Self.bot)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)")
    #expect(p.server.requests.count == 3)
    // Turn 3's request holds the whole conversation so far.
    let last = try #require(p.server.requests.last?.json?["messages"]?.arrayValue)
    #expect(last.map { $0["role"]?.stringValue ?? "" } == ["system", "user", "assistant", "user", "assistant", "user"])
    #expect(last[2] == ["role": "assistant", "content": "Hello! How can I help?"])
    let c = try firstCase(p)
    #expect(c["ended_by"] == "script")
    #expect(c["output"] == "Your order was A1.")
    #expect(try #require(c["turns"]?.arrayValue).map { $0["passed"] } == [true, false, true])
  }

  @Test func replayWithTheServerDownGivesTheSameTranscriptAndVerdicts() async throws {
    let p = try Project(suites: ["chat": Self.scripted(onFailure: "continue")], handler: Self.bot)
    #expect(await p.run(["--mode", "record"]).status == 1)
    let recorded = try firstCase(p)
    let cassette = try p.dir.read("expectations/cassettes/chat/remembers-the-order.yaml")
    #expect(
      cassette.contains("- kind: user\n  duration_ms: 0\n  response:\n    content: my order is A1\n"), "\(cassette)")
    p.server.stop()
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 1, "\(r.stdout)")
    let replayed = try firstCase(p)
    for key in ["assertions", "steps", "turns", "output", "ended_by"] {
      #expect(replayed[key] == recorded[key], "\(key)")
    }
    #expect(replayed["cassette"]?["status"] == "replayed")
  }

  @Test func anEditedTurnIsStaleAtThatTurnAndAutoReRecordsOnlyFromThere() async throws {
    let p = try Project(suites: ["chat": Self.scripted(onFailure: "continue")], handler: Self.bot)
    #expect(await p.run(["--mode", "record"]).status == 1)
    try p.dir.write("prompts/chat.yaml", Self.scripted(onFailure: "continue", third: "what was my order again?"))
    var r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        #"cassette is stale: step 4 (turn 3's user message): the user's message changed: recorded "what was my order?", now "what was my order again?""#
      ), "\(r.stdout)")
    let before = p.server.requests.count
    r = await p.run(["--mode", "auto"])
    #expect(r.status == 1, "\(r.stdout)")
    // Turns 1 and 2 replayed; only turn 3's reply was asked for.
    #expect(p.server.requests.count == before + 1)
    #expect(r.stdout.contains("note: re-recorded from step 4 (turn 3's user message)"), "\(r.stdout)")
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 1)
  }

  @Test func aSystemPromptEditIsStaleAtTurnOne() async throws {
    let p = try Project(suites: ["chat": Self.scripted(onFailure: "continue")], handler: Self.bot)
    #expect(await p.run(["--mode", "record"]).status == 1)
    try p.dir.write("prompts/chat.yaml", Self.scripted(onFailure: "continue", system: "You are a terse support bot."))
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(r.stdout.contains("cassette is stale: step 1 (turn 1): body.messages[0].content"), "\(r.stdout)")
  }

  static let tools = """
    defaults:
      params:
        tools:
          - type: function
            function: {name: get_order, parameters: {type: object, properties: {id: {type: string}}}}
    mocks: {get_order: {status: shipped}}
    """

  @Test func aTurnIsAToolLoop() async throws {
    let suite =
      Self.tools + "\n"
        + """
        tests:
          - name: looks it up
            system: You are a support bot.
            turns:
              - user: Hello
              - user: what is the status of A1?
                assert:
                  - contains: shipped
              - user: what was my order?
            assert:
              - tool-sequence: [get_order]
              - turn-count: 3
              - {contains: shipped, on: "turn[2]"}
              - {contains: "user: what is the status of A1?", on: transcript}
              - ended-by: script
        """
    let p = try Project(suites: ["chat": suite], handler: Self.bot)
    let r = await p.run(["--mode", "record", "--html", "r.html"])
    #expect(r.status == 0, "\(r.stdout)")
    // The HTML report shows the conversation as a transcript, each turn's checks beside it.
    let html = try p.dir.read("r.html")
    #expect(
      html.contains(#"<div class="msg user"><span class="role">user</span><pre>what is the status of A1?</pre></div>"#))
    #expect(
      html.contains(
        #"<div class="msg tool"><span class="role">calls</span><pre>get_order({&quot;id&quot;:&quot;A1&quot;})</pre></div>"#
      ), "\(html)")
    #expect(
      html.contains(#"<li class="pass">✓ turn 2 assert[0] contains: the output does contain &quot;shipped&quot;</li>"#))
    let c = try firstCase(p)
    #expect(
      c["steps"]?.arrayValue?.map { $0["kind"]?.stringValue } == [
        "model", "user", "model", "tool", "model", "user", "model",
      ])
    let turns = try #require(c["turns"]?.arrayValue)
    #expect(
      turns.map { $0["reply"]?.stringValue } == [
        "Hello! How can I help?", #"Order A1: {"status":"shipped"}"#, "Your order was A1.",
      ])
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 0)
  }

  static func simulated(maxTurns: Int) -> String {
    """
    tests:
      - name: simulated customer
        system: You are a support bot.
        simulate:
          persona: a customer who ordered A1
          goal: learn where order A1 is
          max_turns: \(maxTurns)
          first_message: Hi
        assert:
          - {contains: "A1", on: transcript}
    """
  }

  @Test func aSimulatedUserEndsByItsStopMarkerAndReplays() async throws {
    let p = try Project(
      suites: ["sim": Self.simulated(maxTurns: 6) + "\n      - ended-by: stop\n      - turn-count: 3"],
      extraConfig: "simulator: {params: {temperature: 0.7}}", handler: Self.bot)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    // Bot, simulator, bot, simulator, bot, simulator (stop).
    #expect(p.server.requests.count == 6)
    try #require(p.server.requests.count > 1, "\(r.stderr)")
    let simulatorCall = try #require(p.server.requests[1].json)
    let sent = try #require(simulatorCall["messages"]?.arrayValue)
    #expect(
      sent[0]["content"]?.stringValue?.contains("Persona: a customer who ordered A1\nGoal: learn where order A1 is")
        == true)
    // Roles flipped: the bot's reply is the simulator's user message; the system prompt is left out.
    #expect(
      Array(sent.dropFirst()) == [
        ["role": "assistant", "content": "Hi"], ["role": "user", "content": "Hello! How can I help?"],
      ])
    #expect(simulatorCall["temperature"] == 0.7)
    let c = try firstCase(p)
    #expect(c["ended_by"] == "stop")
    #expect(c["simulator_usage"]?["total_tokens"] != nil, "\(c)")
    let recorded = c
    p.server.stop()
    let again = await p.run(["--mode", "replay"])
    #expect(again.status == 0, "\(again.stdout)")
    let replayed = try firstCase(p)
    for key in ["assertions", "steps", "turns", "output", "ended_by", "simulator_usage", "usage"] {
      #expect(replayed[key] == recorded[key], "\(key)")
    }
  }

  @Test func aPersonaEditIsStaleAtTheSimulatorsFirstCallAndAutoKeepsTurnOne() async throws {
    let p = try Project(suites: ["sim": Self.simulated(maxTurns: 6)], handler: Self.bot)
    #expect(await p.run(["--mode", "record"]).status == 0)
    #expect(p.server.requests.count == 6)
    try p.dir.write(
      "prompts/sim.yaml", Self.simulated(maxTurns: 6).replacingOccurrences(of: "who ordered A1", with: "in a hurry"))
    var r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "is stale: step 2 (turn 2's user message): the simulated user's call differs: body.messages[0].content differs at line 2 of 4"
      ), "\(r.stdout)")
    r = await p.run(["--mode", "auto"])
    #expect(r.status == 0, "\(r.stdout)")
    // Turn 1's reply replayed; the simulator and the bot from step 2 on: five calls, not six.
    #expect(p.server.requests.count == 6 + 5)
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 0)
  }

  @Test func aSimulatedUserEndsAtMaxTurns() async throws {
    let p = try Project(
      suites: ["sim": Self.simulated(maxTurns: 2) + "\n      - ended-by: max_turns\n      - turn-count: 2"],
      handler: Self.bot)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    // Bot, simulator, bot: the third user turn is never asked for.
    #expect(p.server.requests.count == 3)
    let failing = try Project(
      suites: ["sim": Self.simulated(maxTurns: 2) + "\n      - ended-by: stop"], handler: Self.bot)
    #expect(await failing.run(["--mode", "record"]).status == 1)
    let message = try #require(firstCase(failing)["assertions"]?.arrayValue?.last?["message"]?.stringValue)
    #expect(message == "assert[1] ended-by: expected the conversation to end by stop, but it ended by max_turns")
  }

  @Test func judgesCheckATurnAndTheTranscriptAndReplay() async throws {
    var judge = JudgeServer()
    judge.verdict = { _, output in
      output.contains("A1")
        ? #"{"pass": true, "score": 1, "reason": "names A1"}"# : #"{"pass": false, "score": 0, "reason": "no order"}"#
    }
    let suite = """
      tests:
        - name: judged
          system: You are a support bot.
          turns:
            - user: Hello
            - user: my order is A1
              assert: [{llm-rubric: names the order}]
          assert:
            - {llm-rubric: the user's order is named, on: transcript}
            - {not-llm-rubric: the order is named, on: "turn[1]"}
      """
    let p = try Project(suites: ["chat": suite], handler: judge.handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    let recorded = try firstCase(p)
    #expect(recorded["assertions"]?.arrayValue?.map { $0["passed"] } == [true, true, true], "\(recorded)")
    #expect(recorded["judge_usage"]?["total_tokens"] == 360)
    // Two model calls and three grader calls.
    #expect(p.server.requests.count == 5)
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 0)
    let replayed = try firstCase(p)
    #expect(replayed["assertions"] == recorded["assertions"])
    #expect(replayed["judge_usage"] == recorded["judge_usage"])
  }

  @Test func aTurnsGoldenIsWrittenPendingAcceptedAndThenHolds() async throws {
    let suite = """
      tests:
        - name: golden turn
          system: You are a support bot.
          turns:
            - user: Hello
            - user: my order is A1
              golden: true
      """
    let p = try Project(suites: ["chat": suite], handler: Self.bot)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)")
    #expect(
      r.stdout.contains(
        "turn 2 golden: no golden at expectations/golden/chat/golden-turn.turn-2.txt; wrote expectations/golden/chat/golden-turn.turn-2.txt.new"
      ), "\(r.stdout)")
    let accepted = await CLI.run(["accept"], in: p.dir.url)
    #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
    #expect(try p.dir.read("expectations/golden/chat/golden-turn.turn-2.txt") == "Order A1 is on its way.\n")
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    // A changed golden fails that turn (and, on_turn_failure: stop, ends the conversation there).
    try p.dir.write("expectations/golden/chat/golden-turn.turn-2.txt", "Order A1 was lost.\n")
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 1)
    #expect(
      r.stdout.contains("turn 2 golden: the output differs from expectations/golden/chat/golden-turn.turn-2.txt"),
      "\(r.stdout)")
    #expect(try firstCase(p)["ended_by"] == "turn_failure")
  }

  @Test func datasetRowsGiveTheTurns() async throws {
    let p = try Project(
      suites: [
        "chat": """
        tests:
          - name: rows
            system: You are a support bot.
            dataset: rows.jsonl
            assert: [{contains: "A1"}, {turn-count: 2}]
        """
      ], handler: Self.bot)
    try p.dir.write(
      "prompts/rows.jsonl",
      #"{"turns": ["Hello", "my order is A1"]}"# + "\n"
        + #"{"turns": [{"user": "Hi"}, {"user": "what was my order?"}]}"# + "\n")
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)")
    let cases = try #require(report(p)["cases"]?.arrayValue)
    #expect(cases.map { $0["output"]?.stringValue } == ["Order A1 is on its way.", "I do not know your order."])
    #expect(cases.map { $0["status"]?.stringValue } == ["passed", "failed"])
    try p.dir.write("prompts/rows.jsonl", #"{"turns": "Hello"}"# + "\n")
    let bad = await p.run(["--mode", "replay"])
    #expect(bad.status == 2)
    #expect(
      bad.stderr.contains("rows.jsonl: a row's turns must be a non-empty list of strings or {\"user\": …} objects"),
      "\(bad.stderr)")
  }

  @Test func loadErrorsNameTheKey() async throws {
    let suite = """
      tests:
        - name: a
          system: s
          simulate: {persona: p}
        - name: b
          system: s
          turns: [{user: hi, assert: [{contain: x}]}]
        - name: c
          prompt: hi
          on_turn_failure: later
          turns: [{user: again}]
        - name: d
          prompt: hi
          assert: [{ended-by: finished}, {turn-count: 0}]
        - name: e
          system: s
          simulate: {persona: p, goal: g}
      """
    let p = try Project(suites: ["bad": suite], handler: Self.bot)
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 2)
    for expected in [
      "prompts/bad.yaml:4:15: error: simulate needs goal",
      "prompts/bad.yaml:7:34: error: unknown assertion kind 'contain'; did you mean 'contains'?",
      "prompts/bad.yaml:10:22: error: on_turn_failure must be stop or continue, found 'later'",
      "prompts/bad.yaml:14:25: error: assert[0] (ended-by) must be stop, max_turns, script or turn_failure, found 'finished'",
      "prompts/bad.yaml:14:49: error: assert[1] (turn-count) must be at least 1, found 0",
      "prompts/bad.yaml:17:15: error: a simulated conversation needs its first user message: give the test a 'prompt', or 'simulate.first_message'",
    ] {
      #expect(r.stderr.contains(expected), "\(expected)\n\(r.stderr)")
    }
  }
}
