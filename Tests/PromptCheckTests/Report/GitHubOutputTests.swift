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
