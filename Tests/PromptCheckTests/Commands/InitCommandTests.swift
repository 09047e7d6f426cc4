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

@Suite struct InitCommandTests {
  @Test func writesWhatIsMissingInAGitRepositoryAndIgnoresReportsAndPendingGoldens() async throws {
    let dir = try TemporaryDirectory()
    #expect(try await Shell.run("git", ["-C", dir.url.path, "init", "-q"]).status == 0)
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
    let status = try await Shell.run("git", ["-C", dir.url.path, "status", "--porcelain", "--untracked-files=all"])
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
