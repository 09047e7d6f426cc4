import Foundation
import LoopbackServer
import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

@Suite struct CompareTests {
  /// Runs git in `dir` as a test committer; the test fails when it does not exit 0.
  static func git(
    _ dir: String, _ args: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation
  ) async throws {
    let r = try await Shell.run("git", ["-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t"] + args)
    #expect(r.status == 0, "\(r.output)", sourceLocation: sourceLocation)
  }

  /// A git that fails says why in git's own words (its last line), quoted.
  @Test func gitsFailureCarriesWhatGitSaid() throws {
    let dir = try TemporaryDirectory()
    guard case .failure(let e) = Git.run(["rev-parse", "--verify", "HEAD"], in: dir.url.path) else {
      Issue.record("git succeeded outside a repository")
      return
    }
    #expect(e.message.hasPrefix(#"git rev-parse failed: "fatal: not a git repository"#), "\(e.message)")
  }

  static let suite = """
    tests:
      - {name: steady, prompt: a, assert: [{contains: "A"}]}
      - {name: drifts, prompt: b, assert: [{contains: "B"}]}
      - {name: breaks, prompt: c, assert: [{contains: "C"}]}
      - {name: heals, prompt: d, assert: [{contains: "D"}]}
    """

  /// Answers by prompt, from a table the test changes between the two runs.
  static func server(_ answers: [String: String]) -> @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply {
    { request, _ in
      let prompt = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
      return .json(FakeOpenAI.completion(answers[prompt] ?? "?"))
    }
  }

  @Test func twoReportsAreClassifiedWithFlipsAndTheComment() async throws {
    let before = try Project(
      suites: ["s": Self.suite],
      handler: Self.server(["a": "A one", "b": "B one\nsecond line", "c": "C fine", "d": "nothing here"]))
    _ = await before.run(["--mode", "live", "--json", "base.json"])
    let after = try Project(
      suites: ["s": Self.suite + "\n  - {name: fresh, prompt: e}\n"],
      handler: Self.server(["a": "A one", "b": "B two\nsecond line", "c": "broken now", "d": "D at last", "e": "E"]))
    _ = await after.run(["--mode", "live", "--json", "head.json"])
    try FileManager.default.copyItem(
      at: before.dir.url.appendingPathComponent("base.json"), to: after.dir.url.appendingPathComponent("base.json"))
    let r = await CLI.run(
      ["compare", "base.json", "head.json", "--markdown", "c.md", "--json", "c.json", "--html", "c.html"],
      in: after.dir.url)
    #expect(r.status == 0)
    #expect(
      r.stdout.hasPrefix(
        "compare base.json → head.json: 5 cases: 1 regression, 1 fix, 3 answers changed, 1 added, 0 removed, 1 unchanged\n\nREGRESSION  s/breaks  passed → failed"
      ), "\(r.stdout)")
    #expect(r.stdout.contains("FIX  s/heals  failed → passed"))
    #expect(r.stdout.contains("CHANGED  s/drifts"))
    #expect(
      r.stdout.contains(
        "\n    --- base.json\n    +++ head.json\n    @@ -1,2 +1,2 @@\n    -B [-one-]\n    +B {+two+}\n     second line\n"
      ))
    #expect(r.stdout.contains("ADDED  s/fresh"))
    let md = try after.dir.read("c.md")
    #expect(
      md.hasPrefix(
        "## promptcheck: base.json → head.json\n\n| | cases |\n|---|---:|\n| regressions | 1 |\n| fixes | 1 |\n| answers changed | 3 |\n| added | 1 |\n| removed | 0 |\n| unchanged | 1 |\n"
      ))
    let regression = try #require(md.range(of: "<b>REGRESSION</b> <code>s/breaks</code> — passed → failed"))
    let changed = try #require(md.range(of: "<b>CHANGED</b> <code>s/drifts</code>"))
    #expect(regression.lowerBound < changed.lowerBound)
    #expect(md.contains("```diff\n--- base.json\n+++ head.json\n@@ -1 +1 @@\n-C fine\n+broken now\n```"))
    let json = try JSON.parse(after.dir.read("c.json"))
    #expect(json["summary"]?["regressions"] == 1)
    #expect(json["cases"]?.arrayValue?.first?["id"] == "s/breaks")
    let html = try after.dir.read("c.html")
    #expect(html.contains("<th>base.json</th><th>head.json</th>"))
    #expect(html.contains("<mark>broken</mark>"))
    let gate = await CLI.run(["compare", "base.json", "head.json", "--fail-on-regression"], in: after.dir.url)
    #expect(gate.status == 1)
    #expect(gate.stderr == "--fail-on-regression: 1 regression\n")
    let bad = await CLI.run(["compare", "nope-not-a-rev"], in: after.dir.url)
    #expect(bad.status == 2)
  }

  @Test func gitRevisionsAreReadWithoutACheckout() async throws {
    let p = try Project(
      suites: ["s": "tests:\n  - {name: kept, prompt: a, golden: true}\n  - {name: other, prompt: b}\n"],
      handler: Self.server(["a": "first answer", "b": "same"]))
    _ = await p.run(["--mode", "record", "--update-goldens"])
    let dir = p.dir.url.path
    try await Self.git(dir, "init", "-q")
    try await Self.git(dir, "add", "-A")
    try await Self.git(dir, "commit", "-qm", "one")
    // The prompt's answer changes; it has a golden, so the gate fails.
    try p.dir.write(
      "prompts/s.yaml", "tests:\n  - {name: kept, prompt: a2, golden: true}\n  - {name: other, prompt: b}\n")
    let p2 = try Project(suites: [:], handler: Self.server(["a2": "second answer", "b": "same"]))
    try p.dir.write(
      "promptcheck.yaml",
      "providers:\n  local:\n    base_url: \(p2.server.baseURL)\n    api_key_env: LOCAL_TEST_KEY\n    model: test-model\n"
    )
    _ = await p.run(["--mode", "record"])
    try await Self.git(dir, "commit", "-qam", "two")
    let r = await CLI.run(["compare", "HEAD~1", "HEAD", "--fail-on-regression"], in: p.dir.url)
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.hasPrefix("compare HEAD~1 → HEAD: 2 cases: 1 answer changed, 0 added, 0 removed, 1 unchanged\n"))
    #expect(r.stdout.contains("-[-first-] answer\n    +{+second+} answer"))
    #expect(r.stderr == "--fail-on-regression: 1 case with a golden changed its answer\n")
    // The working tree against the last commit: nothing changed.
    let clean = await CLI.run(["compare", "HEAD"], in: p.dir.url)
    #expect(clean.stdout.hasPrefix("compare HEAD → working tree: 2 cases: 0 answers changed"))
  }

  /// An agent that looks order A1 up (v1), or looks A2 up and refunds it (v2); both answer "Shipped.".
  static func agent(v2: Bool) -> @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply {
    { request, _ in
      let results = request.json?["messages"]?.arrayValue?.filter { $0["role"] == "tool" }.count ?? 0
      switch (v2, results) {
      case (false, 0): return .json(FakeOpenAI.toolCalls([("get_order", #"{"id": "A1"}"#)]))
      case (true, 0): return .json(FakeOpenAI.toolCalls([("get_order", #"{"id":"A2"}"#)]))
      case (true, 1): return .json(FakeOpenAI.toolCalls([("refund", #"{"id":"A2"}"#)]))
      default: return .json(FakeOpenAI.completion("Shipped."))
      }
    }
  }

  @Test func aTrajectoryThatChangedIsShownBesideTheSameFinalAnswer() async throws {
    let suite =
      ToolLoopTests.tools + "\nmocks: {get_order: {status: shipped}, refund: done}\n" + """
        tests:
          - {name: agent, prompt: where is my order?}
        """
    let p = try Project(suites: ["s": suite], handler: Self.agent(v2: false))
    #expect(await p.run(["--mode", "record", "--json", "old.json"]).status == 0)
    let dir = p.dir.url.path
    try await Self.git(dir, "init", "-q")
    try await Self.git(dir, "add", "-A")
    try await Self.git(dir, "commit", "-qm", "one")
    let p2 = try Project(suites: [:], handler: Self.agent(v2: true))
    try p.dir.write(
      "promptcheck.yaml",
      "providers:\n  local:\n    base_url: \(p2.server.baseURL)\n    api_key_env: LOCAL_TEST_KEY\n    model: test-model\n"
    )
    #expect(await p.run(["--mode", "record", "--json", "new.json"]).status == 0)
    let r = await CLI.run(["compare", "HEAD"], in: p.dir.url)
    // The deltas hold recorded latencies; the tokens are the three model calls' against the two.
    #expect(r.stdout.contains("CHANGED  s/agent  (tokens +15"), "\(r.stdout)")
    let shown = r.stdout.replacingOccurrences(of: #"  \(tokens [^)]*\)"#, with: "", options: .regularExpression)
    #expect(
      shown == """
        compare HEAD → working tree: 1 case: 1 answer changed, 0 added, 0 removed, 0 unchanged

        CHANGED  s/agent
            trajectory:
              tools [get_order] → [get_order, refund]
              added: refund
              call 1 get_order: arguments {"id":"A1"} → {"id":"A2"}
              model calls 2 → 3

        """, "\(r.stdout)")
    // Two reports say the same, and the JSON form lists both sides.
    let reports = await CLI.run(
      ["compare", "old.json", "new.json", "--json", "cmp.json", "--markdown", "cmp.md"], in: p.dir.url)
    #expect(reports.stdout.hasPrefix("compare old.json → new.json: 1 case: 0 regressions"), "\(reports.stdout)")
    let json = try JSON.parse(p.dir.read("cmp.json"))
    let trajectory = json["cases"]?.arrayValue?.first?["trajectory"]
    #expect(trajectory?["changes"]?.arrayValue?.count == 4, "\(json)")
    #expect(trajectory?["base"]?["tools"] == [["name": "get_order", "arguments": #"{"id":"A1"}"#]])
    #expect(trajectory?["head"]?["model_calls"] == 3)
    #expect(json["cases"]?.arrayValue?.first?["diff"] == nil)
    let md = try p.dir.read("cmp.md")
    #expect(md.contains("Trajectory:\n\n- `tools [get_order] → [get_order, refund]`\n"), "\(md)")
    #expect(md.contains("same final answer"))
  }

  @Test func twoConversationsAreShownFromTheTurnWhereTheyFork() async throws {
    let p = try Project(
      suites: ["chat": ConversationTests.scripted(onFailure: "continue")], handler: ConversationTests.bot)
    #expect(await p.run(["--mode", "record", "--json", "old.json"]).status == 1)
    let dir = p.dir.url.path
    try await Self.git(dir, "init", "-q")
    try await Self.git(dir, "add", "-A")
    try await Self.git(dir, "commit", "-qm", "one")
    // Turn 3 asks something else; auto keeps turns 1 and 2 and records from turn 3.
    try p.dir.write("prompts/chat.yaml", ConversationTests.scripted(onFailure: "continue", third: "hello again"))
    #expect(await p.run(["--mode", "auto", "--json", "new.json"]).status == 1)
    let r = await CLI.run(["compare", "HEAD"], in: p.dir.url)
    // The deltas hold measured latencies.
    let shown = r.stdout.replacingOccurrences(
      of: #"  \((tokens|latency) [^)]*\)"#, with: "", options: .regularExpression)
    #expect(
      shown == """
        compare HEAD → working tree: 1 case: 1 answer changed, 0 added, 0 removed, 0 unchanged

        CHANGED  chat/remembers-the-order
            fork at turn 3:
              HEAD:
                turn 3 user: what was my order?
                turn 3 assistant: Your order was A1.
              working tree:
                turn 3 user: hello again
                turn 3 assistant: Hello! How can I help?
            --- HEAD
            +++ working tree
            @@ -1 +1 @@
            -[-Your order was A1.-]
            +{+Hello! How can I help?+}

        """, "\(r.stdout)")
    // Two reports fork at the same turn; the JSON and Markdown forms show both sides from there.
    let reports = await CLI.run(
      ["compare", "old.json", "new.json", "--json", "cmp.json", "--markdown", "cmp.md"], in: p.dir.url)
    #expect(reports.stdout.contains("fork at turn 3:"), "\(reports.stdout)")
    let fork = try JSON.parse(p.dir.read("cmp.json"))["cases"]?.arrayValue?.first?["fork"]
    #expect(fork?["turn"] == 3)
    #expect(fork?["head"] == [["user": "hello again", "reply": "Hello! How can I help?"]])
    let md = try p.dir.read("cmp.md")
    #expect(
      md.contains(
        "Fork at turn 3:\n\n| | old.json | new.json |\n|---|---|---|\n| turn 3 user | what was my order? | hello again |\n"
      ), "\(md)")
  }

  @Test func aHugeCommentIsTruncatedWithANote() {
    var base: [String: Answer] = [:]
    var head: [String: Answer] = [:]
    var ids: [String] = []
    for i in 0..<400 {
      let id = "s/case-\(i)"
      ids.append(id)
      base[id] = Answer(id: id, text: String(repeating: "old words \(i) ", count: 40))
      head[id] = Answer(id: id, text: String(repeating: "new words \(i) ", count: 40))
    }
    let c = Comparison(
      base: AnswerSet(name: "a", answers: base, order: ids, isReport: false),
      head: AnswerSet(name: "b", answers: head, order: ids, isReport: false))
    let md = ComparisonRendering.markdown(c)
    #expect(md.utf8.count <= ComparisonRendering.commentLimit)
    #expect(md.contains("more cases not shown: the comment would pass GitHub's 65536 characters"))
    #expect(md.hasPrefix("## promptcheck: a → b"))
  }
}

@Suite struct ReRecordTests {
  @Test func reRecordingSaysWhichAnswersChangedWithTheDiff() async throws {
    let p = try Project(
      suites: ["s": "tests:\n  - {name: t, prompt: x}\n"], handler: CompareTests.server(["x": "old text"]))
    _ = await p.run(["--mode", "record"])
    let p2 = try Project(suites: [:], handler: CompareTests.server(["x": "new text"]))
    try p.dir.write(
      "promptcheck.yaml",
      "providers:\n  local:\n    base_url: \(p2.server.baseURL)\n    api_key_env: LOCAL_TEST_KEY\n    model: test-model\n"
    )
    let r = await p.run(["--mode", "record", "--json", "r.json", "--html", "r.html"])
    #expect(
      r.stdout.contains(
        "1 answer changed on re-recording:\n  s/t\n    --- recorded before\n    +++ recorded now\n    @@ -1 +1 @@\n    -[-old-] text\n    +{+new+} text\n"
      ), "\(r.stdout)")
    let report = try JSON.parse(p.dir.read("r.json"))
    #expect(report["summary"]?["answers_changed"] == 1)
    #expect(
      report["cases"]?.arrayValue?.first?["recorded_change"]?.stringValue?.contains("-old text\n+new text") == true)
    #expect(try p.dir.read("r.html").contains("Answer changed on re-recording"))
    // Recording the same answer again says nothing.
    let again = await p.run(["--mode", "record"])
    #expect(!again.stdout.contains("changed on re-recording"))
  }
}

@Suite struct AcceptFromReportTests {
  @Test func acceptFromAReportWritesThePendingGoldens() async throws {
    let suite = "tests:\n  - {name: greet, prompt: hi, golden: true, matrix: {name: [Ann, Bob]}}\n"
    let p = try Project(suites: ["s": suite], handler: echo)
    let r = await p.run(["--mode", "live", "--json", "ci.json"])
    #expect(r.status == 1)
    // As on a developer's machine after downloading CI's report: no .new files here.
    for f in ["greet--name-ann", "greet--name-bob"] {
      try FileManager.default.removeItem(at: p.dir.url.appendingPathComponent("expectations/golden/s/\(f).txt.new"))
    }
    let one = await CLI.run(["accept", "--from", "ci.json", "s/greet[name=Bob]"], in: p.dir.url)
    #expect(one.stdout == "accepted expectations/golden/s/greet--name-bob.txt (from ci.json)\n")
    #expect(try p.dir.read("expectations/golden/s/greet--name-bob.txt") == "Echo: hi\n")
    #expect(!p.dir.exists("expectations/golden/s/greet--name-ann.txt"))
    let all = await CLI.run(["accept", "--from", "ci.json"], in: p.dir.url)
    #expect(all.stdout.contains("accepted expectations/golden/s/greet--name-ann.txt (from ci.json)"))
    // The goldens now pass.
    #expect(await p.run(["--mode", "live"]).status == 0)
  }

  @Test func acceptTakesTheIdsRunPrints() async throws {
    let suite = "tests:\n  - {name: greet, prompt: hi, golden: true, matrix: {name: [Ann, Bob]}}\n"
    let p = try Project(suites: ["s": suite], handler: echo)
    _ = await p.run(["--mode", "live"])
    let r = await CLI.run(["accept", "s/greet[name=Ann]"], in: p.dir.url)
    #expect(r.stdout == "accepted expectations/golden/s/greet--name-ann.txt\n")
    #expect(p.dir.exists("expectations/golden/s/greet--name-bob.txt.new"))
  }
}
