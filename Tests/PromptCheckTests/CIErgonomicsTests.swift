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

@Suite struct ShardingTests {
  @Test func shardsAreStableDisjointAndCoverEverything() async throws {
    var tests = "tests:\n"
    for i in 0..<1000 {
      tests += "  - {name: case \(i), prompt: \"q\(i)\", assert: [{contains: \"\(i % 7 == 0 ? "never" : "Echo")\"}]}\n"
    }
    let p = try Project(suites: ["big": tests], handler: echo)
    #expect(await p.run(["--mode", "record", "-j", "32", "--quiet"]).status == 1)
    #expect(await p.run(["--mode", "replay", "--quiet", "--json", "full.json", "--junit", "full.xml"]).status == 1)
    var shardIDs: [Set<String>] = []
    for k in 1...4 {
      _ = await p.run(["--mode", "replay", "--quiet", "--shard", "\(k)/4", "--json", "shard-\(k).json"])
      let ids =
        try JSON.parse(p.dir.read("shard-\(k).json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
      shardIDs.append(Set(ids))
      #expect(ids.count > 150 && ids.count < 350, "shard \(k) has \(ids.count) cases")
    }
    let all = shardIDs.reduce(Set<String>()) { $0.union($1) }
    #expect(all.count == 1000)
    #expect(shardIDs.map(\.count).reduce(0, +) == 1000)  // no overlap
    // The same split every time (a stable hash, not a random one).
    _ = await p.run(["--mode", "replay", "--quiet", "--shard", "2/4", "--json", "again.json"])
    let again =
      try JSON.parse(p.dir.read("again.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    #expect(Set(again) == shardIDs[1])

    let merge = await CLI.run(
      [
        "merge", "shard-3.json", "shard-1.json", "shard-4.json", "shard-2.json", "--json", "merged.json", "--junit",
        "merged.xml", "--html", "merged.html",
      ],
      in: p.dir.url)
    #expect(merge.status == 1)
    #expect(merge.stdout.hasSuffix("\nmerged 4 reports: 857 passed, 143 failed, 0 errored, 0 skipped\n"))
    // The failures are printed as `run` prints them.
    #expect(merge.stdout.hasPrefix("\nFAIL  big/case-0  "))
    #expect(
      merge.stdout.contains("    prompts/big.yaml:2: assert[0] contains: expected the output to contain \"never\""))
    #expect(try Self.withoutTimings(p.dir.read("merged.json")) == Self.withoutTimings(p.dir.read("full.json")))
    #expect(try Self.junitWithoutTimings(p.dir.read("merged.xml")) == Self.junitWithoutTimings(p.dir.read("full.xml")))
    // A shard given twice, or missing, is refused (exit 3: the gate cannot be judged).
    let twice = await CLI.run(["merge", "shard-1.json", "shard-1.json"], in: p.dir.url)
    #expect(twice.status == 3)
    #expect(
      twice.stderr
        == "error: shard 1/4 is given 2 times (shard-1.json, shard-1.json); shards 2/4, 3/4, 4/4 are missing\n")
  }

  static func withoutTimings(_ text: String) throws -> JSON {
    guard case .object(var root) = try JSON.parse(text) else { return .null }
    root["started_at"] = nil
    root["duration_ms"] = nil
    root["cases"] = .array(
      (root["cases"]?.arrayValue ?? []).map { c in
        guard case .object(var o) = c else { return c }
        o["duration_ms"] = nil
        o["latency_ms"] = nil
        return .object(o)
      })
    return .object(root)
  }

  static func junitWithoutTimings(_ xml: String) -> String {
    xml.replacingOccurrences(of: #"time="[0-9.]+""#, with: "", options: .regularExpression)
      .replacingOccurrences(of: #"timestamp="[^"]+""#, with: "", options: .regularExpression)
      .replacingOccurrences(of: #"latency: [0-9]+ ms"#, with: "", options: .regularExpression)
  }

  @Test func shardOfIsAStableHash() {
    #expect(
      Planner.shardOf("refunds/window-is-stated", count: 4) == Planner.shardOf("refunds/window-is-stated", count: 4))
    #expect((1...4).contains(Planner.shardOf("x", count: 4)))
    #expect(Planner.shardOf("anything", count: 1) == 1)
  }
}

@Suite struct GateTests {
  @Test func rerunFailedRunsOnlyWhatFailedLastTime() async throws {
    let p = try Project(
      suites: [
        "a": """
        tests:
          - {name: one, prompt: x, assert: [{contains: Echo}]}
          - {name: two, prompt: x, assert: [{contains: nope}]}
          - {name: three, prompt: x, assert: [{contains: Echo}]}
        """
      ], handler: echo)
    #expect(await p.run(["--mode", "live"]).status == 1)
    let r = await p.run(["--mode", "live", "--rerun-failed"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("promptcheck 0.1.0: 1 case (mode live)"))
    #expect(r.stdout.contains("FAIL  a/two"))
    let missing = await p.run(["--rerun-failed", "--json", "nowhere.json"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("error: --rerun-failed: no previous report at"))
  }

  @Test func maxCostStopsSendingOnceTheBudgetIsSpent() async throws {
    var tests = "tests:\n"
    for i in 0..<6 { tests += "  - {name: case \(i), prompt: x}\n" }
    // The server reports tokens but no cost (as OpenAI and llama.cpp do); the provider's pricing
    // ($1,000 per million tokens: 5 + 5 tokens cost $0.01) prices each call and its reservation.
    let p = try Project(
      suites: ["c": "defaults: {params: {max_tokens: 5}}\n" + tests],
      providerExtra: "    pricing: {prompt: 1000, completion: 1000}"
    ) { _, _ in
      .json(FakeOpenAI.completion("ok", usage: ["prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10]))
    }
    for jobs in ["1", "8"] {
      let r = await p.run(["--mode", "live", "-j", jobs, "--max-cost", "0.025"])
      #expect(r.status == 3)
      // Each call reserves its worst case ($0.01) before it is sent: two fit, however many run at once.
      #expect(r.stdout.contains("budget exhausted: not sent, live calls have cost $0.0"), "\(r.stdout)")
      #expect(r.stdout.contains("budget: spent $0.02 of --max-cost $0.025; 4 cases not sent"), "\(r.stdout)")
      let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
      #expect(report["summary"]?["errored"] == 4)
      #expect(report["summary"]?["budget"]?["not_sent"] == 4)
      #expect(report["summary"]?["usage"]?["cost"] == 0.02)
      #expect(report["summary"]?["usage"]?["cost_estimated"] == true)
    }
    #expect(p.server.requests.count == 4)
    // Replayed cases cost nothing.
    _ = await p.run(["--mode", "record", "-j", "1"])
    #expect(await p.run(["--mode", "replay", "--max-cost", "0"]).status == 0)
  }

  @Test func repeatWithMinPassRateToleratesFlakyRepetitions() async throws {
    let p = try Project(suites: [
      "f": """
      tests:
        - name: flaky
          prompt: x
          repeat: 4
          min_pass_rate: 0.75
          assert: [{contains: good}]
        - name: strict
          prompt: y
          repeat: 2
          assert: [{contains: good}]
      """
    ]) { request, attempt in
      .json(
        FakeOpenAI.completion(
          request.json?["messages"]?.arrayValue?.last?["content"] == "x" && attempt == 2 ? "bad" : "good"))
    }
    let r = await p.run(["--mode", "live", "-j", "1"])
    #expect(r.status == 0, "\(r.stdout)")
    // Tolerance is known once the group is complete: the summary notes it.
    #expect(r.stdout.contains("note: f/flaky#2: tolerated: 3 of 4 repetitions passed, min_pass_rate is 0.75"))
    #expect(r.stdout.contains("5 passed, 0 failed, 1 tolerated, 0 errored, 0 skipped"))
    let junit = try p.dir.read(".promptcheck/junit.xml")
    #expect(junit.contains("failures=\"0\""))
    #expect(junit.contains("tolerated failure: assert[0] contains:"))
  }
}

@Suite struct GitHubOutputTests {
  @Test func annotationsAndStepSummary() async throws {
    let p = try Project(
      suites: [
        "gh": """
        tests:
          - {name: good, prompt: x, assert: [{contains: Echo}]}
          - name: bad
            prompt: "100% sure"
            assert: [{contains: "nope, really"}]
        """
      ], handler: echo)
    let summary = p.dir.url.appendingPathComponent("step-summary.md").path
    try "# earlier step\n".write(toFile: summary, atomically: true, encoding: .utf8)
    let r = await p.run(["--mode", "live"], env: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary])
    #expect(r.status == 1)
    #expect(
      r.stdout.contains(
        "::error file=prompts/gh.yaml,line=3,title=promptcheck%3A gh/bad::assert[0] contains: expected the output to contain \"nope, really\", but it does not; it starts \"Echo: 100% sure\"\n"
          .replacingOccurrences(of: "100% sure\"\n", with: "100%25 sure\"\n")))
    let md = try String(contentsOfFile: summary, encoding: .utf8)
    #expect(md.hasPrefix("# earlier step\n## promptcheck\n"))
    #expect(md.contains("| 1 | 1 | 0 | 0 |"))
    #expect(
      md.contains(
        "- **failed** `gh/bad` (prompts/gh.yaml:3): assert\\[0\\] contains: expected the output to contain \"nope, really\""
      ))
    // Without GITHUB_ACTIONS, no annotations.
    #expect(!(await p.run(["--mode", "live"]).stdout.contains("::error")))
  }
}

@Suite struct InitCommandTests {
  @Test func writesWhatIsMissingInAGitRepositoryAndIgnoresReportsAndPendingGoldens() async throws {
    let dir = try TemporaryDirectory()
    #expect(try Shell.run("git", ["-C", dir.url.path, "init", "-q"]).status == 0)
    try dir.write(".gitignore", "node_modules/")
    let r = await CLI.run(["init"], in: dir.url)
    #expect(r.status == 0)
    #expect(
      r.stdout.hasPrefix(
        "wrote promptcheck.yaml\nwrote prompts/example.yaml\nwrote promptcheck.schema/suite.json\nwrote promptcheck.schema/config.json\nwrote .github/workflows/promptcheck.yml\nadded .promptcheck/, expectations/**/*.new to .gitignore\n"
      ), "\(r.stdout)")
    #expect(try dir.read(".gitignore").hasPrefix("node_modules/\n# promptcheck:"))
    // The starter project is valid, and the editor modelines point at the schemas it wrote.
    let v = await CLI.run(["validate"], in: dir.url)
    #expect(v.status == 0, "\(v.stderr)")
    #expect(v.stdout == "ok: 1 suite, 2 tests, 2 cases\n")
    #expect(
      try dir.read("prompts/example.yaml").hasPrefix(
        "# yaml-language-server: $schema=../promptcheck.schema/suite.json\n"))
    #expect(dir.exists("promptcheck.schema/suite.json"))
    let workflow = try dir.read(".github/workflows/promptcheck.yml")
    #expect(workflow.contains("uses: OWNER/promptcheck@v0.1.0") && !workflow.contains("swift build"))
    // Reports and pending goldens stay out of git.
    try dir.write(".promptcheck/report.json", "{}")
    try dir.write("expectations/golden/example/x.txt.new", "pending")
    try dir.write("expectations/golden/example/x.txt", "golden")
    let status = try Shell.run("git", ["-C", dir.url.path, "status", "--porcelain", "--untracked-files=all"])
    #expect(status.output.contains("expectations/golden/example/x.txt\n"))
    #expect(!status.output.contains(".new") && !status.output.contains(".promptcheck/"), "\(status.output)")
    // A second init overwrites nothing and says so.
    try dir.write("prompts/example.yaml", "tests: [{name: mine, prompt: x}]\n")
    let again = await CLI.run(["init"], in: dir.url)
    #expect(again.status == 0)
    #expect(again.stdout.contains("skipped prompts/example.yaml (it exists; promptcheck never overwrites it)\n"))
    #expect(again.stdout.contains("skipped .gitignore (it already ignores .promptcheck/ and expectations/**/*.new)\n"))
    #expect(try dir.read("prompts/example.yaml") == "tests: [{name: mine, prompt: x}]\n")
  }

  @Test func gitlabAndShardedWorkflows() async throws {
    let dir = try TemporaryDirectory()
    let r = await CLI.run(["init", "--ci", "gitlab"], in: dir.url)
    #expect(r.stdout.contains("wrote .gitlab-ci.yml\n"))
    let job = try dir.read(".gitlab-ci.yml")
    #expect(job.contains("reports:\n      junit: junit.xml"))
    #expect(job.contains("--junit-file-attributes"))
    let sharded = try TemporaryDirectory()
    _ = await CLI.run(["init", "--shards", "3", "--action", "acme/promptcheck@v1"], in: sharded.url)
    let w = try sharded.read(".github/workflows/promptcheck.yml")
    #expect(w.contains("matrix: { shard: [1, 2, 3] }") && w.contains("shard: ${{ matrix.shard }}/3"))
    #expect(w.contains("promptcheck merge shards/shard-*.json"))
    let jobs = try YAMLParser.parse(w, file: "w")["jobs"]?.mapping?.compactMap { $0.key.scalar?.text }
    #expect(jobs == ["prompts", "merge"])
  }

  /// The action and every workflow promptcheck writes or documents parse as YAML, and name
  /// only inputs the action has.
  @Test func actionAndWorkflowsParseAndUseOnlyItsInputs() async throws {
    let action = try YAMLParser.parse(
      String(contentsOf: TestPaths.packageRoot.appendingPathComponent("action.yml"), encoding: .utf8),
      file: "action.yml")
    let inputs = Set((action["inputs"]?.mapping ?? []).compactMap { $0.key.scalar?.text })
    #expect(inputs == ["args", "config", "shard", "step-summary", "artifact-name"])
    #expect(action["runs"]?["using"]?.scalar?.text == "composite")
    var workflows: [(String, String)] = []
    for args in [["init"], ["init", "--shards", "4"], ["init", "--ci", "gitlab"]] {
      let dir = try TemporaryDirectory()
      _ = await CLI.run(args, in: dir.url)
      for f in [".github/workflows/promptcheck.yml", ".gitlab-ci.yml"] where dir.exists(f) {
        workflows.append((f, try dir.read(f)))
      }
    }
    #expect(workflows.count == 3)
    for (name, text) in workflows {
      let root = try YAMLParser.parse(text, file: name)
      func visit(_ n: YAMLNode) {
        if let pairs = n.mapping {
          if pairs.contains(where: {
            $0.key.scalar?.text == "uses" && ($0.value.scalar?.text ?? "").contains("/promptcheck@")
          }),
            let with = n["with"]
          {
            for k in with.mapping ?? [] {
              #expect(inputs.contains(k.key.scalar?.text ?? ""), "\(name) uses the input \(k.key.scalar?.text ?? "")")
            }
          }
          pairs.forEach { visit($0.value) }
        }
        n.sequence?.forEach(visit)
      }
      visit(root)
    }
  }

  @Test func shellCompletionsAreGenerated() throws {
    let dir = try TemporaryDirectory()
    let r = try BinaryRunner.run(["--generate-completion-script", "bash"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stdout.contains("_promptcheck") && r.stdout.contains("compare"))
  }
}
