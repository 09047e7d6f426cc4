import Foundation
import LoopbackServer
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckImport

/// `promptcheck import` (README "Coming from promptfoo"): whole configs shaped like promptfoo's
/// published examples (`Tests/Fixtures/promptfoo`, written here), one golden per mapping row,
/// the refusals, and the imported suites' verdicts on recorded answers.
@Suite struct ImportTests {
  static let fixtures = TestPaths.fixtures.appendingPathComponent("promptfoo")

  /// A fixture copied into a fresh folder, its loopback URLs filled in.
  static func project(_ name: String, url: String = "http://127.0.0.1:9/v1", app: String = "http://127.0.0.1:9") throws
    -> TemporaryDirectory
  {
    let dir = try TemporaryDirectory()
    let from = fixtures.appendingPathComponent(name)
    for f in FileManager.default.enumerator(atPath: from.path)?.allObjects as? [String] ?? [] {
      var isDir: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: from.appendingPathComponent(f).path, isDirectory: &isDir)
      guard !isDir.boolValue else { continue }
      let text = try String(contentsOf: from.appendingPathComponent(f), encoding: .utf8)
      try dir.write(
        f, text.replacingOccurrences(of: "LOOPBACK_URL", with: url).replacingOccurrences(of: "LOOPBACK_APP", with: app))
    }
    return dir
  }

  /// Every example imports with these counts (mapped, approximated, dropped) and the result validates.
  @Test(arguments: [
    ("basic", 1, 14, 1, 0), ("csv-tests", 0, 8, 0, 0), ("chat-json", 0, 5, 0, 0), ("graded", 1, 6, 3, 0),
    ("templates", 1, 10, 1, 0), ("python-assert", 0, 6, 0, 0), ("http-provider", 0, 4, 0, 0), ("exec-echo", 0, 5, 0, 0),
    ("scenarios", 0, 6, 0, 0), ("options", 1, 8, 1, 2), ("conversation", 1, 4, 1, 1), ("tools", 1, 10, 1, 1),
  ])
  func everyExampleImportsAndValidates(name: String, status: Int32, mapped: Int, approximated: Int, dropped: Int)
    async throws
  {
    let dir = try Self.project(name)
    let r = await CLI.run(["import", "promptfoo"], in: dir.url)
    // The counts, per example (a test prints them in its name's line).
    print("import \(name): \(mapped) mapped / \(approximated) approximated / \(dropped) dropped")
    #expect(r.status == status, "\(r.stdout)\(r.stderr)")
    #expect(
      r.stdout.contains(
        "imported promptfooconfig.yaml: \(mapped) mapped, \(approximated) approximated, \(dropped) dropped"),
      "\(r.stdout)")
    let report = try JSON.parse(dir.read("import-report.json"))
    #expect(report["mapped"] == .int(mapped))
    let v = await CLI.run(["validate"], in: dir.url)
    #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
  }

  /// Imported against the loopback server, recorded, then replayed with it gone: every check
  /// keeps the meaning it had in promptfoo (the echo answers satisfy what each example asserts).
  @Test(arguments: ["csv-tests", "chat-json", "templates", "scenarios", "exec-echo", "http-provider", "basic"])
  func importedSuitesKeepTheirVerdictsOnRecordedAnswers(name: String) async throws {
    let server = try LoopbackServer(handler: echo)
    let app = try LoopbackServer { request, _ in
      .json(["reply": ["text": .string("You said: " + (request.json?["message"]?.stringValue ?? ""))]])
    }
    let dir = try Self.project(name, url: server.baseURL, app: app.baseURL)
    #expect([0, 1].contains(await CLI.run(["import", "promptfoo"], in: dir.url).status))
    // The imported basic example names an OpenRouter provider too: only the loopback one records.
    let args =
      name == "basic" ? ["run", "--mode", "record", "--provider", "openai-gpt-4o-mini"] : ["run", "--mode", "record"]
    var r = await CLI.run(args, in: dir.url, environment: ["OPENAI_API_KEY": "sk-test-0123456789abcdef"])
    let expected: Int32 = name == "basic" ? 1 : 0
    #expect(r.status == expected, "\(r.stdout)\(r.stderr)")
    server.stop()
    app.stop()
    let replay = ["run", "--mode", "replay"] + (name == "basic" ? ["--provider", "openai-gpt-4o-mini"] : [])
    r = await CLI.run(replay, in: dir.url)
    #expect(r.status == expected, "\(r.stdout)\(r.stderr)")
    if name == "basic" {
      // The echo never says bonjour: promptfoo's icontains fails here too.
      #expect(r.stdout.contains(#"icontains: expected the output to contain "bonjour""#), "\(r.stdout)")
    }
  }

  @Test func metricsFromACSVAreTotalledByRunAndCompare() async throws {
    let server = try LoopbackServer(handler: echo)
    let dir = try Self.project("csv-tests", url: server.baseURL)
    #expect(await CLI.run(["import", "promptfoo"], in: dir.url).status == 0)
    let env = ["OPENAI_API_KEY": "sk-test-0123456789abcdef"]
    let r = await CLI.run(["run", "--mode", "record", "--json", "a.json"], in: dir.url, environment: env)
    #expect(r.stdout.contains("metrics: helpfulness 2/2, coverage 1/1, tone 1/1"), "\(r.stdout)")
    let report = try JSON.parse(dir.read("a.json"))
    #expect(report["summary"]?["metrics"]?["helpfulness"] == ["passed": 2, "total": 2])
    let c = await CLI.run(["compare", "a.json", "a.json", "--json", "c.json"], in: dir.url)
    #expect(c.stdout.contains("metrics: helpfulness 2/2 → 2/2, coverage 1/1 → 1/1, tone 1/1 → 1/1"), "\(c.stdout)")
    #expect(try JSON.parse(dir.read("c.json"))["metrics"]?["tone"]?["head"] == ["passed": 1, "total": 1])
  }

  @Test(.enabled(if: pythonAvailable, "python3 is not installed"))
  func pythonAssertionsRunThroughTheShim() async throws {
    let server = try LoopbackServer(handler: echo)
    let dir = try Self.project("python-assert", url: server.baseURL)
    #expect(await CLI.run(["import", "promptfoo"], in: dir.url).status == 0)
    // The binary, in the project folder: exec commands run where promptcheck runs.
    let r = try BinaryRunner.run(
      ["run", "--mode", "record", "--verbose"], in: dir.url, environment: ["OPENAI_API_KEY": "sk-test-0123456789abcdef"]
    )
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("✓ assert[0] exec: the case does satisfy the command"), "\(r.stdout)")
    #expect(r.stdout.contains("mentions the thing"), "\(r.stdout)")
  }

  /// One row per construct: promptfoo's assertion → promptcheck's, and how it is counted.
  @Test(arguments: [
    ("{type: equals, value: x}", "- equals: x", "mapped"),
    ("{type: contains, value: x}", "- contains: x", "mapped"),
    ("{type: not-contains, value: x}", "- not-contains: x", "mapped"),
    ("{type: icontains, value: x}", "- icontains: x", "mapped"),
    ("{type: contains-any, value: [a, b]}", "- contains-any:\n    - a\n    - b", "mapped"),
    ("{type: contains-all, value: [a, b]}", "- contains-all:\n    - a\n    - b", "mapped"),
    ("{type: icontains-any, value: [a]}", "- icontains-any:\n    - a", "mapped"),
    ("{type: icontains-all, value: [a]}", "- icontains-all:\n    - a", "mapped"),
    ("{type: starts-with, value: x}", "- starts-with: x", "mapped"),
    ("{type: regex, value: '^a'}", "- regex: ^a", "mapped"),
    ("{type: is-json}", "- is-json: true", "mapped"),
    ("{type: is-json, value: {type: object}}", "- is-json:\n      type: object", "mapped"),
    ("{type: contains-json}", "- contains-json: true", "mapped"),
    ("{type: latency, threshold: 500}", "- max-latency-ms: 500", "mapped"),
    ("{type: cost, threshold: 0.002}", "- max-cost: 0.002", "mapped"),
    ("{type: llm-rubric, value: polite}", "- llm-rubric:\n      rubric: polite", "mapped"),
    ("{type: similar, value: hi, threshold: 0.9}", "- similar:\n      value: hi\n      threshold: 0.9", "mapped"),
    ("{type: levenshtein, value: hi, threshold: 2}", "- levenshtein:\n      value: hi\n      max: 2", "mapped"),
    ("{type: word-count, value: 3}", "- word-count: 3", "mapped"),
    ("{type: contains, value: x, weight: 2, metric: m}", "- contains: x\n    weight: 2\n    metric: m", "mapped"),
    (
      "{type: python, value: 'len(output) > 0'}",
      "- exec:\n    - python3\n    - prompts/promptfoo_assert_shim.py\n    - '--code'\n    - len(output) > 0", "mapped"
    ),
    (
      "{type: factuality, value: Paris}",
      "rubric: 'The output is factually consistent with this reference answer: Paris'", "approximated"
    ),
    ("{type: model-graded-closedqa, value: cites}", "rubric: 'The output meets this criterion: cites'", "approximated"),
    ("{type: g-eval, value: coherent}", "rubric: 'The output meets these criteria: coherent'", "approximated"),
    (
      "{type: answer-relevance}", "rubric: The output is relevant to the question it answers and answers it.",
      "approximated"
    ),
    ("{type: is-valid-openai-tools-call}", "- finish-reason: tool_calls", "approximated"),
    ("{type: assert-set, assert: [{type: contains, value: a}]}", "- contains: a", "mapped"),
    (
      "{type: assert-set, threshold: 0.5, assert: [{type: contains, value: a}]}", "- any-of:\n    - contains: a",
      "approximated"
    ),
    ("{type: moderation}", "", "dropped"),
    ("{type: perplexity-score}", "", "dropped"),
  ])
  func aMappingRow(promptfoo: String, promptcheck: String, status: String) throws {
    let config = "prompts: [hi]\nproviders: [openai:m]\ntests:\n  - assert:\n      - \(promptfoo)\n"
    let plan = PromptfooImporter.importConfig(
      config, file: "promptfooconfig.yaml", read: { _ in nil }, list: { _ in [] })
    #expect(plan.errors.isEmpty, "\(plan.errors)")
    let suite = try #require(plan.files.first { $0.path.hasPrefix("prompts/") }?.text)
    if promptcheck.isEmpty {
      #expect(!suite.contains("assert:"), "\(suite)")
    } else {
      #expect(suite.contains(promptcheck), "\(suite)")
    }
    // The row's own entry: the outermost construct on its line.
    let row = try #require(
      plan.report.entries.filter { $0.location.line == 5 }.min { $0.location.column < $1.location.column })
    #expect(row.status.rawValue == status, "\(plan.report.text)")
  }

  @Test(arguments: [
    (
      "promptfooconfig.js", "module.exports = {}",
      "error: a JavaScript or TypeScript config cannot be imported"
    ),
    (
      "promptfooconfig.yaml", "prompts: [file://missing.txt]\nproviders: [openai:m]\n",
      "promptfooconfig.yaml:1:11: error: cannot read the prompt file missing.txt"
    ),
    ("promptfooconfig.yaml", "prompts: [hi\nproviders: [openai:m]\n", "promptfooconfig.yaml:2:"),
    (
      "promptfooconfig.yaml",
      "prompts: [hi]\nproviders:\n  - id: openai:gpt-4o\n    config: {apiKey: sk-live-0123456789abcdef}\n",
      "promptfooconfig.yaml:4:22: error: provider openai:gpt-4o holds an API key in the config: promptcheck never writes a key to a file"
    ),
  ])
  func refusalsSayWhyAndWriteNothing(file: String, text: String, message: String) async throws {
    let dir = try TemporaryDirectory()
    try dir.write(file, text)
    let r = await CLI.run(["import", "promptfoo", file], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(r.stderr.contains("nothing was written"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == [file])
    #expect(!r.stderr.contains("sk-live-0123456789abcdef") && !r.stdout.contains("sk-live"))
  }

  @Test func nothingIsOverwrittenWithoutForce() async throws {
    let dir = try Self.project("exec-echo")
    try dir.write("promptcheck.yaml", "# mine\n")
    var r = await CLI.run(["import", "promptfoo"], in: dir.url)
    #expect(r.status == 2)
    #expect(
      r.stderr.contains("these files exist and would be overwritten: promptcheck.yaml; give --force"), "\(r.stderr)")
    #expect(try dir.read("promptcheck.yaml") == "# mine\n")
    r = await CLI.run(["import", "promptfoo", "--force"], in: dir.url)
    #expect(r.status == 0)
    #expect(try dir.read("promptcheck.yaml").contains("targets:"))
  }

  @Test func anOpenAIEvalImportsRecordsAndReplays() async throws {
    let server = try LoopbackServer(handler: echo)
    let dir = try TemporaryDirectory()
    let from = TestPaths.fixtures.appendingPathComponent("openai-evals")
    try dir.write(
      "evals/capitals.yaml", try String(contentsOf: from.appendingPathComponent("evals/capitals.yaml"), encoding: .utf8)
    )
    try dir.write(
      "data/capitals/samples.jsonl",
      try String(contentsOf: from.appendingPathComponent("data/capitals/samples.jsonl"), encoding: .utf8))
    var r = await CLI.run(["import", "openai-evals", "evals/capitals.yaml"], in: dir.url)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("imported evals/capitals.yaml: 3 mapped, 0 approximated, 0 dropped"), "\(r.stdout)")
    let suite = try dir.read("prompts/capitals.yaml")
    #expect(suite.contains("- any-of:\n    - contains: Japan\n    - contains: Tokyo"), "\(suite)")
    try dir.write(
      "promptcheck.yaml",
      (try dir.read("promptcheck.yaml")).replacingOccurrences(of: "https://api.openai.com/v1", with: server.baseURL))
    r = await CLI.run(
      ["run", "--mode", "record"], in: dir.url, environment: ["OPENAI_API_KEY": "sk-test-0123456789abcdef"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    server.stop()
    r = await CLI.run(["run", "--mode", "replay"], in: dir.url)
    #expect(r.status == 0, "\(r.stdout)")
  }
}
