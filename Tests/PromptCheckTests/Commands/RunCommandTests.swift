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

@Suite struct RunCommandTests {
  @Test func liveRunPassesAndWritesReports() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("PASS  basic/greets"))
    #expect(r.stdout.contains("\n2 passed, 0 failed, 0 errored, 0 skipped in "))
    #expect(p.dir.exists(".promptcheck/junit.xml"))
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    #expect(
      report["summary"]
        == [
          "passed": 2, "failed": 0, "errored": 0, "skipped": 0, "tolerated": 0,
          "usage": [
            "prompt_tokens": 17, "completion_tokens": 8, "reasoning_tokens": 0, "cached_tokens": 0, "cost": .null,
          ],
          // Two requests, none refused: the window grew from 1 by one per answer.
          "requests": [
            "sent": 2, "rate_limited": 0, "waits": 0, "wait_s": 0.0, "window": 3, "jobs": 8, "rate_per_s": .null,
          ],
        ])
    #expect(report["cases"]?.arrayValue?.map { $0["id"]?.stringValue ?? "" } == ["basic/greets", "basic/streams"])
    #expect(report["cases"]?.arrayValue?.first?["cassette"]?["status"] == "live")
    // live mode writes no cassette.
    #expect(!p.dir.exists("expectations/cassettes/basic/greets.yaml"))
    #expect(p.server.requests.first?.headers["authorization"] == "Bearer sk-test-0123456789abcdef")
  }

  @Test func exitCodes() async throws {
    let p = try Project(
      suites: [
        "a": """
        tests:
          - {name: ok, prompt: x, assert: [{contains: Echo}]}
          - {name: bad, prompt: x, assert: [{contains: nope}]}
        """
      ], handler: echo)
    #expect(await p.run(["--mode", "live"]).status == 1)
    #expect(await p.run(["--mode", "live", "--filter", "a/ok"]).status == 0)
    #expect(await p.run(["--mode", "live", "--min-pass-rate", "0.5"]).status == 0)
    #expect(await p.run(["--mode", "live", "--min-pass-rate", "0.6"]).status == 1)
    // A case that cannot run: exit 3.
    #expect(await p.run(["--mode", "replay", "--filter", "a/ok"]).status == 3)
    // Invalid invocations: exit 2, nothing run.
    var r = await p.run(["--mode", "bogus"])
    #expect(r.status == 2)
    #expect(
      r.stderr.hasPrefix(
        "Error: The value 'bogus' is invalid for '--mode <mode>'. Please provide one of 'replay', 'record', 'auto' or 'live'.\n"
      ))
    r = await p.run(["--shard", "5/4"])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("Error: The value '5/4' is invalid for '--shard <K/N>'\n"))
    r = await p.run(["--update-goldens"], env: ["CI": "true"])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("error: --update-goldens is refused when CI is set"))
    try p.dir.write("prompts/broken.yaml", "tests: [{name: x}]\n")
    r = await p.run(["--mode", "live"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("prompts/broken.yaml:1:16: error: test 'x' needs 'messages' or 'prompt'"))
    #expect(p.server.requests.count == 7)  // 2 + 1 + 2 + 2 live requests; the invalid runs sent nothing
  }

  @Test func serverErrorsMakeTheCaseErrorWithTheServersMessage() async throws {
    let p = try Project(suites: ["a": "tests: [{name: t, prompt: x}]\n"]) { _, _ in
      .json(["error": ["message": "model is overloaded"]], status: 400)
    }
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 3)
    #expect(r.stdout.contains("prompts/a.yaml:1: HTTP 400: model is overloaded"))
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    #expect(report["cases"]?.arrayValue?.first?["error"] == "HTTP 400: model is overloaded")
  }

  @Test func missingKeySaysWhichVariableToSet() async throws {
    let p = try Project(suites: ["a": "tests: [{name: t, prompt: x}]\n"], handler: echo)
    let r = await CLI.run(["run", "--mode", "live"], in: p.dir.url)
    #expect(r.status == 3)
    #expect(r.stdout.contains("LOCAL_TEST_KEY is not set: provider 'local' needs it for live calls"))
    #expect(p.server.requests.isEmpty)
  }

  @Test func junitIsValidForHostileOutput() async throws {
    let hostile = "Tom & Jerry <b>\"quoted\"</b> 'single' \u{1}\u{7}\u{1B}[31m 👍🏽 \u{FFFE} ]]> end"
    let p = try Project(suites: [
      "x&y": """
      tests:
        - name: hostile <output>
          prompt: x
          assert: [{contains: "not there"}]
        - name: skipped one
          prompt: x
          skip: "because <reasons> & \\"quotes\\""
      """
    ]) { _, _ in .json(FakeOpenAI.completion(hostile)) }
    let r = await p.run(["--mode", "live", "--html", "out/report.html"])
    #expect(r.status == 1)
    let junit = p.dir.url.appendingPathComponent(".promptcheck/junit.xml").path
    let schema = TestPaths.fixtures.appendingPathComponent("schemas/jenkins-junit.xsd").path
    let lint = try await Shell.run("xmllint", ["--noout", "--schema", schema, junit])
    #expect(lint.status == 0, "\(lint.output)")
    let xml = try String(contentsOfFile: junit, encoding: .utf8)
    #expect(xml.contains("Tom &amp; Jerry &lt;b&gt;"))
    #expect(!xml.contains("\u{1}"))
    #expect(xml.contains("👍🏽"))
    #expect(xml.contains("<skipped message=\"because &lt;reasons&gt; &amp; &quot;quotes&quot;\"/>"))
    #expect(xml.contains("<testsuite name=\"x&amp;y\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"1\""))
    let html = try p.dir.read("out/report.html")
    #expect(html.contains("Tom &amp; Jerry &lt;b&gt;"))
  }
}

@Suite struct JUnitConsumerTests {
  @Test(.enabled(if: junitparserAvailable, "python3 with junitparser is not installed"))
  func junitparserReadsTheRightCounts() async throws {
    let p = try Project(
      suites: [
        "mixed": """
        tests:
          - {name: ok, prompt: x, assert: [{contains: Echo}]}
          - {name: bad, prompt: x, assert: [{contains: nope}, {contains: never}]}
          - {name: later, prompt: x, skip: not now}
          - {name: flaky, prompt: x, repeat: 2, min_pass_rate: 0.5, assert: [{contains: "Echo"}]}
        """
      ], handler: echo)
    _ = await p.run(["--mode", "live"])
    try p.dir.write("prompts/broken.yaml", "tests: [{name: e, prompt: y}]\n")
    _ = await p.run(["--mode", "replay", "--filter", "broken/", "--junit", "errors.xml"])
    let script = """
      import sys
      from junitparser import JUnitXml
      for path in sys.argv[1:]:
          for s in JUnitXml.fromfile(path):
              kinds = sorted('passed' if c.is_passed else 'skipped' if c.is_skipped else type(c.result[0]).__name__ for c in s)
              print(s.name, s.tests, s.failures, s.errors, s.skipped, ','.join(kinds))
      """
    let out = try await Shell.run(
      "python3",
      [
        "-c", script, p.dir.url.appendingPathComponent(".promptcheck/junit.xml").path,
        p.dir.url.appendingPathComponent("errors.xml").path,
      ])
    #expect(out.status == 0, "\(out.output)")
    #expect(
      out.output == """
        mixed 5 1 0 1 Failure,passed,passed,passed,skipped
        broken 1 0 1 0 Error

        """)
  }
}
