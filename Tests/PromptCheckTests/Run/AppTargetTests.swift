import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckExecute
@testable import PromptCheckServe

/// App targets (README "Testing your app"): small real apps written with the official OpenAI
/// SDK (`Tests/examples/app`), their model calls recorded through promptcheck's endpoint against
/// the loopback server, then replayed with the server gone.
@Suite(.enabled(if: openaiSDKAvailable, "python3 with the openai package is not installed"))
struct AppTargetTests {
  static let app = TestPaths.packageRoot.appendingPathComponent("Tests/examples/app").path

  /// The model: asked a question it calls get_order; given the tool's result, it answers with it.
  static let model: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
    let messages = request.json?["messages"]?.arrayValue ?? []
    if let tool = messages.last, tool["role"] == "tool" {
      let status = (try? JSON.parse(tool["content"]?.stringValue ?? ""))?["status"]?.stringValue ?? "?"
      return .json(FakeOpenAI.completion("Order A1 is \(status)."))
    }
    let question = messages.last?["content"]?.stringValue ?? ""
    let id = question.contains("B2") ? "B2" : "A1"
    return .json(FakeOpenAI.toolCalls([("get_order", #"{"id":""# + id + #""}"#)]))
  }

  static let commandConfig = """
    targets:
      bot:
        command:
          run: [python3, \(app)/support_bot.py]
          stdin: '{"question": "{{prompt}}", "model": "test-model"}'
          output: json
          response: $.answer
          timeout_ms: 30000
    """

  static let suite = """
    target: bot
    tests:
      - name: order status
        prompt: Where is my order A1?
        assert:
          - contains: shipped
          - tool-sequence: [get_order]
          - step-count: 2
          - tool-call: {name: get_order, arguments: [{path: $.id, equals: A1}]}
    """

  func report(_ p: Project) throws -> JSON { try JSON.parse(p.dir.read(".promptcheck/report.json")) }
  func firstCase(_ p: Project) throws -> JSON { try #require(report(p)["cases"]?.arrayValue?.first) }

  @Test func aCommandTargetsModelCallsAreRecordedAndReplayedWithTheServerGone() async throws {
    let p = try Project(suites: ["app": Self.suite], extraConfig: Self.commandConfig, handler: Self.model)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    // The app made two model calls, the second with its tool's result.
    #expect(p.server.requests.count == 2)
    let second = try #require(p.server.requests.last?.json?["messages"]?.arrayValue)
    #expect(second.last?["role"] == "tool")
    let recorded = try firstCase(p)
    #expect(recorded["steps"]?.arrayValue?.map { $0["kind"]?.stringValue } == ["app", "app", "target"])
    #expect(recorded["output"] == "Order A1 is shipped.")
    let cassette = try p.dir.read("expectations/cassettes/app/order-status.yaml")
    #expect(cassette.contains("method: RUN\n"), "\(cassette)")
    #expect(cassette.contains("- kind: app\n"))
    #expect(!cassette.contains("/c/c1/"), "the per-run endpoint never reaches the cassette\n\(cassette)")
    // Replay: the app is not run, the server is gone; the same verdicts.
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    let replayed = try firstCase(p)
    for key in ["assertions", "steps", "output"] { #expect(replayed[key] == recorded[key], "\(key)") }
    #expect(replayed["cassette"]?["status"] == "replayed")
    // --live-target: the app runs, its model calls answered from the cassette.
    r = await p.run(["--mode", "replay", "--live-target"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try firstCase(p)["assertions"] == recorded["assertions"])
  }

  @Test func aChangedAppCallIsNamedWhenTheAppRunsOnTheCassette() async throws {
    let p = try Project(suites: ["app": Self.suite], extraConfig: Self.commandConfig, handler: Self.model)
    #expect(await p.run(["--mode", "record"]).status == 0)
    p.server.stop()
    // The app's code changed (here through its environment): its first model call differs.
    let changed = Self.commandConfig + "\n      env: {APP_SYSTEM: Be brief.}\n"
    try p.dir.write(
      "promptcheck.yaml",
      "providers:\n  local:\n    base_url: \(p.server.baseURL)\n    api_key_env: LOCAL_TEST_KEY\n    model: test-model\n"
        + changed)
    // Without --live-target the app is not run: the recorded exchange replays.
    var r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    // Its request to the app changed: stale before anything runs.
    let p2 = Self.commandConfig.replacingOccurrences(of: "{{prompt}}", with: "{{prompt}} Thanks.")
    try p.dir.write(
      "promptcheck.yaml",
      "providers:\n  local:\n    base_url: \(p.server.baseURL)\n    api_key_env: LOCAL_TEST_KEY\n    model: test-model\n"
        + p2)
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(r.stdout.contains("is stale: the target request differs: body.stdin"), "\(r.stdout)")
    try p.dir.write(
      "promptcheck.yaml",
      "providers:\n  local:\n    base_url: \(p.server.baseURL)\n    api_key_env: LOCAL_TEST_KEY\n    model: test-model\n"
        + changed)
    r = await p.run(["--mode", "replay", "--live-target"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        #"the app's model call 1 is not in the cassette; the next recorded one differs at body.messages[0].content: recorded "You are a support agent. Use get_order to look orders up.", now "Be brief.""#
      ), "\(r.stdout)")
  }

  @Test func aCommandThatFailsErrorsTheCaseWithItsStderr() async throws {
    let config = """
      targets:
        bot:
          command: {run: "echo broken >&2; exit 4"}
      """
    let p = try Project(suites: ["app": Self.suite], extraConfig: config, handler: Self.model)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(r.stdout.contains("target bot: `echo broken >&2; exit 4` exited with status 4: broken"), "\(r.stdout)")
    #expect(!p.dir.exists("expectations/cassettes/app/order-status.yaml"))
  }

  /// A free port for an app the run starts, below the kernel's ephemeral range (32768 and up on
  /// Linux): a port the kernel gave out for port 0 could be given again, to another test's server,
  /// between this check and the app's start (seen once under load).
  static func freePort() throws -> Int {
    for _ in 0..<100 {
      let port = Int.random(in: 20_000..<30_000)
      if let listener = try? TCPListener(host: "127.0.0.1", port: port) {
        listener.stop()
        return port
      }
    }
    let listener = try TCPListener(host: "127.0.0.1", port: 0)
    defer { listener.stop() }
    return listener.port
  }

  static func httpConfig(port: Int) -> String {
    """
    targets:
      web:
        http:
          url: http://127.0.0.1:\(port)/chat
          headers: {X-App-Token: "${APP_TOKEN}"}
          body: {message: "{{prompt}}"}
          response: $.answer
        start:
          run: [python3, \(app)/support_server.py, "\(port)"]
          ready: {url: "http://127.0.0.1:\(port)/health"}
          env: {APP_TOKEN: "${APP_TOKEN}", APP_MODEL: test-model}
          timeout_ms: 20000
        session: {body: session_id}
    """
  }

  @Test func anHTTPTargetIsStartedRecordedAndReplayedWithoutRunning() async throws {
    let port = try Self.freePort()
    let suite =
      Self.suite.replacingOccurrences(of: "target: bot", with: "target: web") + """

          - name: second order
            prompt: And order B2?
            assert: [{contains: delayed}]
        """
    let p = try Project(suites: ["app": suite], extraConfig: Self.httpConfig(port: port), handler: Self.model)
    let token = "app-token-0123456789abcdef"
    var r = await p.run(["--mode", "record"], env: ["APP_TOKEN": token])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(p.server.requests.count == 4)
    let cassette = try p.dir.read("expectations/cassettes/app/order-status.yaml")
    #expect(!cassette.contains(token), "the secret header never reaches the cassette")
    #expect(cassette.contains("X-App-Token: ${APP_TOKEN}"), "\(cassette)")
    #expect(cassette.contains("session_id: pc-"), "\(cassette)")
    #expect(!(try p.dir.read(".promptcheck/report.json")).contains(token))
    // The app was stopped at the end of the run: its port is free again.
    #expect(await Self.nothingListens(port))
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(await Self.nothingListens(port), "replay does not start the app")
    r = await p.run(["--mode", "replay", "--live-target"], env: ["APP_TOKEN": token])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(await Self.nothingListens(port))
  }

  @Test func aConversationWithTheAppKeepsItsSessionAndReplays() async throws {
    let port = try Self.freePort()
    let suite = """
      target: web
      tests:
        - name: two turns
          turns:
            - user: Where is my order A1?
              assert: [{contains: shipped}]
            - user: And order B2?
              assert: [{contains: delayed}]
          assert:
            - turn-count: 2
            - {contains: "user: And order B2?", on: transcript}
      """
    let p = try Project(suites: ["app": suite], extraConfig: Self.httpConfig(port: port), handler: Self.model)
    let env = ["APP_TOKEN": "app-token-0123456789abcdef"]
    var r = await p.run(["--mode", "record"], env: env)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    // The app remembered the session: turn 2's model calls carry turn 1's question.
    #expect(p.server.requests.count == 4)
    let third = try #require(p.server.requests[2].json?["messages"]?.arrayValue?.first?["content"]?.stringValue)
    #expect(third.contains("Earlier the customer said: Where is my order A1?"), "\(third)")
    let recorded = try firstCase(p)
    #expect(
      recorded["steps"]?.arrayValue?.map { $0["kind"]?.stringValue } == [
        "app", "app", "target", "user", "app", "app", "target",
      ])
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    let replayed = try firstCase(p)
    for key in ["assertions", "steps", "turns"] { #expect(replayed[key] == recorded[key], "\(key)") }
    // The app runs again, every turn, its model calls from the cassette (its session state too).
    r = await p.run(["--mode", "replay", "--live-target"], env: env)
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try firstCase(p)["turns"] == recorded["turns"])
    // An edited second turn is stale at that turn's target request.
    try p.dir.write("prompts/app.yaml", suite.replacingOccurrences(of: "And order B2?", with: "And B2?"))
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(r.stdout.contains("step 4 (turn 2's user message): the user's message changed"), "\(r.stdout)")
  }

  @Test func anAppThatNeverGetsReadyErrorsWithItsOutput() async throws {
    let config = """
      targets:
        web:
          http: {url: "http://127.0.0.1:9/chat", body: {message: "{{prompt}}"}}
          start: {run: "echo starting up; sleep 30", ready: {port: 9}, timeout_ms: 500}
      """
    let p = try Project(
      suites: ["app": Self.suite.replacingOccurrences(of: "target: bot", with: "target: web")], extraConfig: config,
      handler: Self.model)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "the app of target web (`echo starting up; sleep 30`) was not ready within 500 ms (start.timeout_ms); its output ends: starting up"
      ), "\(r.stdout)")
  }

  @Test func aStreamedAnswerIsAssembledFromItsEvents() async throws {
    // The "app" is a loopback server answering an event stream; the target is inline in the suite.
    let app = try LoopbackServer { request, _ in
      let asked = request.json?["q"]?.stringValue ?? ""
      return .sse(["data: {\"delta\": \"You asked: \"}\n\n", "data: {\"delta\": \"\(asked)\"}\n\n", "data: [DONE]\n\n"])
    }
    defer { app.stop() }
    let suite = """
      tests:
        - name: streamed
          prompt: ping
          target: {http: {url: "\(app.baseURL)/chat", body: {q: "{{prompt}}"}, stream: sse, response: $.delta}}
          assert: [{equals: "You asked: ping"}]
      """
    let p = try Project(suites: ["app": suite], handler: Self.model)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(app.requests.first?.json == ["q": "ping"])
    app.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try firstCase(p)["output"] == "You asked: ping")
  }

  @Test func targetKeysAreChecked() async throws {
    let config = """
      targets:
        a: {http: {url: "ftp://x"}, command: {run: [x]}}
        b: {command: {run: [x], response: $.a}}
        c: {http: {url: "http://x", stream: chunks}}
      """
    let p = try Project(
      suites: ["app": "target: nope\ntests:\n  - {name: t, prompt: hi}\n"], extraConfig: config, handler: Self.model)
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 2)
    for expected in [
      "targets.a: give either 'http' or 'command', not both",
      "targets.b.command.response reads a JSON output; add 'output: json'",
      "targets.c.http.stream must be sse, found 'chunks'",
    ] {
      #expect(r.stderr.contains(expected), "\(expected)\n\(r.stderr)")
    }
  }

  /// Whether nothing accepts connections on the loopback port (the started app is gone).
  static func nothingListens(_ port: Int) async -> Bool {
    !(await AppProcess.isReady(.port(port), transport: nil))
  }
}
