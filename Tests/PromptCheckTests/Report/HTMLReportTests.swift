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

@Suite struct HTMLReportTests {
  @Test func wordDiffMarksOnlyChangedWords() {
    let (l, r) = HTMLReport.wordDiff("the monthly <report>", "the weekly <report>")
    #expect(l == "the <mark>monthly</mark> &lt;report&gt;")
    #expect(r == "the <mark>weekly</mark> &lt;report&gt;")
  }

  @Test func sideBySidePairsRemovedAndAddedLines() {
    let html = HTMLReport.sideBySide("--- a\n+++ b\n@@ -1,2 +1,2 @@\n same\n-old line\n+new line\n")
    #expect(html.contains("<tr><td>same</td><td>same</td></tr>"))
    #expect(html.contains("<td class=\"del\"><mark>old</mark> line</td><td class=\"add\"><mark>new</mark> line</td>"))
  }

  /// A 200-case run with 20 failures, opened in headless Chromium: the page renders every case.
  @Test(.enabled(if: chromium != nil, "Chromium is not installed"))
  func chromiumRendersEveryCase() async throws {
    var tests = "tests:\n"
    for i in 0..<200 {
      let expected = i % 10 == 3 ? "never said" : "Echo"
      tests += "  - {name: case \(i), prompt: \"q\(i)\", assert: [{contains: \"\(expected)\"}]}\n"
    }
    let p = try Project(suites: ["h": tests], handler: echo)
    _ = await p.run(["--mode", "live", "--quiet", "--html", "report.html"])
    let page = p.dir.url.appendingPathComponent("report.html").path
    let dom = try await Shell.run(
      chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + page])
    #expect(dom.status == 0)
    #expect(dom.output.components(separatedBy: "<section class=\"case ").count - 1 == 200)
    #expect(dom.output.components(separatedBy: "data-status=\"failed\"").count - 1 == 20)
    #expect(dom.output.contains("180 passed"))
  }
}

@Suite struct HTMLReadingTests {
  @Test func failuresComeFirstTimingsAreLabelledAndAPendingGoldenSaysHowToAcceptIt() async throws {
    let suite = """
      tests:
        - {name: fine, prompt: a, assert: [{contains: Echo}]}
        - {name: broken, prompt: b, assert: [{contains: never}]}
        - {name: told, prompt: c, golden: true}
      """
    let p = try Project(suites: ["h": suite], handler: echo)
    _ = await p.run(["--mode", "live", "--html", "r.html"])
    let html = try p.dir.read("r.html")
    let broken = try #require(html.range(of: "h/broken</span>"))
    let told = try #require(html.range(of: "h/told</span>"))
    let fine = try #require(html.range(of: "h/fine</span>"))
    #expect(broken.lowerBound < fine.lowerBound && told.lowerBound < fine.lowerBound)
    #expect(html.contains("· 3 cases · run time "))
    #expect(html.contains("run time "))
    #expect(html.contains("answer latency "))
    #expect(html.contains("accept it with <code>promptcheck accept 'h/told'</code>"))
    let one = try Project(suites: ["h": "tests:\n  - {name: only, prompt: a}\n"], handler: echo)
    _ = await one.run(["--mode", "live", "--html", "r.html"])
    #expect(try one.dir.read("r.html").contains("· 1 case · run time "))
  }
}
