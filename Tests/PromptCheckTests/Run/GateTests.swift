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
