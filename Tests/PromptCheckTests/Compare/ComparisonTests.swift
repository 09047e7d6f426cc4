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

/// Answers "<model>: <last user message>", so each case shows who answered it.
let byModel: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
  let content = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
  return .json(FakeOpenAI.completion("\(request.model): \(content)", model: request.model))
}

@Suite struct TargetTests {
  @Test func aTemplatedModelIsSentPerCase() async throws {
    let suite = """
      tests:
        - name: ask
          prompt: hi
          model: "{{m}}"
          matrix: {m: [small-1, large-2]}
      """
    let p = try Project(suites: ["s": suite], handler: byModel)
    let r = await p.run(["--mode", "live", "--json", "r.json"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(Set(p.server.requests.map(\.model)) == ["small-1", "large-2"])
    let outputs = try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue?.compactMap { $0["output"]?.stringValue }
    #expect(outputs == ["small-1: hi", "large-2: hi"])
  }

  @Test func unfilledTemplatesAreErrorsNeverSentLiterally() {
    var (_, errors) = loadSuite("tests:\n  - name: t\n    prompt: x\n    model: \"{{m}}\"\n")
    #expect(errors.contains { $0.contains("unknown variable 'm'; this test defines no vars") }, "\(errors)")
    (_, errors) = loadSuite("tests:\n  - name: \"ask {{who}}\"\n    prompt: x\n    model: m\n")
    #expect(errors.contains { $0.contains("'name' is not templated, so its {{…}} would stay as written") }, "\(errors)")
  }

  @Test func targetListsAndRunOverridesMakeOneCasePerTarget() async throws {
    let suite = """
      models: [m-one, m-two]
      tests:
        - {name: ask, prompt: hi, assert: [{contains: "hi"}]}
      """
    let p = try Project(suites: ["s": suite], handler: byModel)
    let r = await p.run(["--mode", "record", "--json", "r.json", "--html", "r.html"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let ids = try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
    #expect(ids == ["s/ask@local:m-one", "s/ask@local:m-two"])
    #expect(p.dir.exists("expectations/cassettes/s/ask--at-local-m-one.yaml"))
    #expect(p.dir.exists("expectations/cassettes/s/ask--at-local-m-two.yaml"))
    // The comparison table, by_target and the side-by-side view.
    #expect(r.stdout.contains("target       pass rate  failed  errored  mean latency  tokens  cost\n"), "\(r.stdout)")
    #expect(r.stdout.contains("local:m-one       100%       0        0"))
    let report = try JSON.parse(p.dir.read("r.json"))
    #expect(
      report["by_target"]?.arrayValue?.compactMap { $0["target"]?.stringValue } == ["local:m-one", "local:m-two"])
    let html = try p.dir.read("r.html")
    #expect(
      html.contains("<h2>Side by side</h2>") && html.contains("<tr class=\"differs\"><td class=\"id\">s/ask</td>"))
    let junit = try p.dir.read(".promptcheck/junit.xml")
    #expect(junit.contains("classname=\"s @ local:m-one\""))
    // Replay is offline for every target, and the ids are the same run after run.
    p.server.stop()
    let again = await p.run(["--mode", "replay", "--json", "again.json"])
    #expect(again.status == 0)
    #expect(try JSON.parse(p.dir.read("again.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ids)
  }

  @Test func runOverridesTargetsForOneRun() async throws {
    let p = try Project(suites: ["s": "tests:\n  - {name: ask, prompt: hi}\n"], handler: byModel)
    let r = await p.run(["--mode", "live", "--model", "x1,x2", "--provider", "local", "--json", "r.json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(Set(p.server.requests.map(\.model)) == ["x1", "x2"])
    #expect(
      try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        == ["s/ask@local:x1", "s/ask@local:x2"])
    let bad = await p.run(["--mode", "live", "--provider", "locl"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("unknown provider 'locl'; did you mean 'local'? (from --provider)"))
  }

  @Test func promptVersionsAreCasesOfTheirOwn() async throws {
    let p = try Project(
      suites: ["s": "prompts: {v1: v1.txt, v2: v2.txt}\ntests:\n  - {name: greet, vars: {who: Ann}}\n"],
      handler: byModel)
    try p.dir.write("prompts/v1.txt", "Hello {{who}}")
    try p.dir.write("prompts/v2.txt", "Good morning, {{who}}")
    let r = await p.run(["--mode", "live", "--json", "r.json"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let cases = try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue ?? []
    #expect(cases.compactMap { $0["id"]?.stringValue } == ["s/greet[prompt=v1]", "s/greet[prompt=v2]"])
    #expect(
      cases.compactMap { $0["output"]?.stringValue } == ["test-model: Hello Ann", "test-model: Good morning, Ann"])
    #expect(cases.compactMap { $0["target"]?.stringValue } == ["prompt v1", "prompt v2"])
    #expect(r.stdout.contains("prompt v1"))
  }
}

@Suite struct DatasetTests {
  @Test func csvRowsWithQuotesCommasNewlinesAndUnicode() throws {
    let csv = "question,expected\n\"Capital, of France?\",Paris\n\"Say \"\"hi\"\"\nthen stop\",hi\nCafé ☕,crème\n"
    guard case .success(let rows) = Dataset.parse(csv, file: "d.csv") else {
      Issue.record("did not parse")
      return
    }
    #expect(rows.map(\.line) == [2, 3, 5])
    #expect(
      rows.map { $0.vars.map(\.value) } == [
        ["Capital, of France?", "Paris"], ["Say \"hi\"\nthen stop", "hi"], ["Café ☕", "crème"],
      ])
  }

  @Test func badInputSaysWhere() {
    guard case .failure(let p) = Dataset.parse("a,b\n1,2\n3\n", file: "d.csv") else {
      Issue.record("parsed")
      return
    }
    #expect(p.line == 3 && p.message == "the row has 1 fields, the header 2")
    guard case .failure(let q) = Dataset.parse("{\"a\": 1}\n\n{nope}\n", file: "d.jsonl") else {
      Issue.record("parsed")
      return
    }
    #expect(q.line == 3)
  }

  @Test func rowsAreCasesWithTheirLineInTheId() async throws {
    let suite = """
      tests:
        - name: capital
          dataset: capitals.csv
          prompt: "{{country}}"
          assert: [{contains: "{{expected}}"}]
      """
    let p = try Project(suites: ["s": suite]) { request, _ in
      let q = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
      return .json(FakeOpenAI.completion(q == "France" ? "Paris" : "Lyon"))
    }
    try p.dir.write("prompts/capitals.csv", "country,expected\nFrance,Paris\n\"Italy\",Rome\n")
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("FAIL  s/capital[row=capitals.csv:3]"))
    #expect(r.stdout.contains("expected the output to contain \"Rome\""))
    try p.dir.write("prompts/capitals.jsonl", "{\"country\": \"France\", \"expected\": \"Paris\"}\nnot json\n")
    try p.dir.write("prompts/s.yaml", suite.replacingOccurrences(of: "capitals.csv", with: "capitals.jsonl"))
    let bad = await p.run(["--mode", "live"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("error: capitals.jsonl:2: not JSON"), "\(bad.stderr)")
  }
}

@Suite struct ComparisonPageTests {
  /// The bundled comparison suite's HTML report, opened in headless Chromium: one column per
  /// prompt version, one row per dataset row, the rows whose answers differ marked.
  @Test(.enabled(if: chromium != nil, "Chromium is not installed"))
  func chromiumRendersTheSideBySideView() async throws {
    // A copy of the bundled project: a report is written inside the project it runs.
    let dir = try TemporaryDirectory()
    let root = TestPaths.packageRoot
    for item in ["promptcheck.yaml", "prompts", "expectations"] {
      try FileManager.default.copyItem(at: root.appendingPathComponent(item), to: dir.url.appendingPathComponent(item))
    }
    let run = await CLI.run(
      ["run", "prompts/comparison.yaml", "--mode", "replay", "--html", "r.html"], in: dir.url, environment: ["CI": "1"])
    #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    let page = dir.url.appendingPathComponent("r.html").path
    let dom = try await Shell.run(
      chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + page])
    #expect(dom.status == 0)
    #expect(dom.output.contains("<th>prompt terse</th><th>prompt polite</th>"))
    #expect(dom.output.components(separatedBy: "<td class=\"id\">").count - 1 == 3)
    #expect(dom.output.contains("class=\"differs\""))
  }
}

@Suite struct TemplatedIncludeTests {
  @Test func aFilePathTakesVariables() throws {
    let t = try loadTest(
      "tests:\n  - name: t\n    model: m\n    matrix: {v: [one, two]}\n    prompt: \"{{file:p/{{v}}.txt}}\"\n",
      files: ["p/one.txt": "first", "p/two.txt": "second"])
    #expect(t.variants.map { $0.messages.last?["content"]?.stringValue } == ["first", "second"])
    let (_, errors) = loadSuite(
      "tests:\n  - name: t\n    model: m\n    prompt: \"{{file:p/{{nope}}.txt}}\"\n", files: ["p/x.txt": "x"])
    #expect(errors.contains { $0.contains("unknown variable 'nope'") }, "\(errors)")
  }
}
