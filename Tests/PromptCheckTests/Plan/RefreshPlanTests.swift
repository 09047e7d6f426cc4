import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore

/// `run --plan` (README "Calling the API"): what `auto` would send, priced, sending nothing.
@Suite struct RefreshPlanTests {
  /// Answers echo the prompt and report a cost of $0.001 a call.
  static let priced: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
    let content = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
    return .json(
      FakeOpenAI.completion(
        "Echo: " + content, usage: ["prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "cost": 0.001]))
  }

  static func suite(_ prompts: [String]) -> String {
    "defaults: {params: {max_tokens: 100}}\ntests:\n"
      + prompts.enumerated().map { "  - {name: t\($0.offset + 1), prompt: \"\($0.element)\"}\n" }.joined()
  }

  @Test func thePlanListsExactlyWhatAutoThenSendsAndPricesIt() async throws {
    let p = try Project(
      suites: ["s": Self.suite(["one", "two", "three"])],
      providerExtra: "    pricing: {prompt: 1, completion: 2}", handler: Self.priced)
    #expect(await p.run(["--mode", "record"]).status == 0)
    #expect(p.server.requests.count == 3)
    // t2's prompt changes (stale), t4 is new (missing); t1 and t3 replay.
    try p.dir.write("prompts/s.yaml", Self.suite(["one", "TWO", "three", "four"]))
    let report = try p.dir.read(".promptcheck/report.json")
    let r = await p.run(["--mode", "auto", "--plan", "--json", "plan.json", "--max-cost", "0.0005"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(p.server.requests.count == 3, "the plan sends nothing")
    let plan = try JSON.parse(p.dir.read("plan.json"))
    let items = try #require(plan["items"]?.arrayValue)
    #expect(items.map { $0["id"]?.stringValue } == ["s/t2", "s/t4"])
    #expect(items.map { $0["why"]?.stringValue } == ["stale", "missing"])
    #expect(items[0]["reason"]?.stringValue?.contains(#"body.messages[0].content: recorded "two", now "TWO""#) == true)
    // The stale case is priced at its recorded cost; the new one at the provider's pricing.
    #expect(items[0]["estimate"] == 0.001)
    #expect(items[0]["basis"] == "recorded")
    #expect(items[1]["basis"] == "pricing")
    #expect(plan["covered"] == false)
    #expect(r.stdout.contains("would record 2 of 4 cases, estimated $"), "\(r.stdout)")
    #expect(r.stdout.contains("--max-cost $0.0005 does not cover it"), "\(r.stdout)")
    #expect(try p.dir.read(".promptcheck/report.json") == report, "a plan writes no report")
    // auto then sends exactly those two.
    #expect(await p.run(["--mode", "auto"]).status == 0)
    #expect(p.server.requests.count == 5)
    let sent = p.server.requests.suffix(2).compactMap {
      $0.json?["messages"]?.arrayValue?.last?["content"]?.stringValue
    }
    #expect(Set(sent) == ["TWO", "four"])
    let after = await p.run(["--mode", "auto", "--plan"])
    #expect(after.stdout.contains("would record 0 of 4 cases; nothing to send"), "\(after.stdout)")
  }

  /// Under GitHub Actions, a run that records puts what it set out to record in the step summary.
  @Test func aRecordingRunShowsThePlanInTheStepSummary() async throws {
    let p = try Project(suites: ["s": Self.suite(["one", "two"])], handler: Self.priced)
    #expect(await p.run(["--mode", "record"]).status == 0)
    try p.dir.write("prompts/s.yaml", Self.suite(["one", "TWO|x"]))
    let summary = p.dir.url.appendingPathComponent("summary.md").path
    let env = ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary]
    #expect(await p.run(["--mode", "auto"], env: env).status == 0)
    let md = try p.dir.read("summary.md")
    #expect(md.contains("### Refresh plan\n\n1 of 2 cases to record, estimated $0.001"), "\(md)")
    #expect(
      md.contains("| `s/t2` | stale | $0.001 (recorded) | cassette is stale: body.messages\\[0\\].content"), "\(md)")
    #expect(md.contains(#"now "TWO\|x""#), "a | in the reason is escaped: \(md)")
    // Nothing to record, nothing to say but that.
    #expect(await p.run(["--mode", "auto"], env: env).status == 0)
    #expect(try p.dir.read("summary.md").contains("Nothing to record: every one of 2 cases replays."))
    // Replay says no plan.
    try FileManager.default.removeItem(atPath: summary)
    #expect(await p.run(["--mode", "replay"], env: env).status == 0)
    #expect(try !p.dir.read("summary.md").contains("Refresh plan"))
  }
}
