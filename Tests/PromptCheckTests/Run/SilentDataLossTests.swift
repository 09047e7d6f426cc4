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

/// What cannot be written is never a silent pass. (Tests run as root, which ignores
/// read-only modes, so an obstacle stands where a folder or file must go.)
@Suite struct SilentDataLossTests {
  @Test func aCassetteThatCannotBeWrittenErrorsTheCase() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n"], handler: echo)
    try p.dir.write("expectations/cassettes/s", "a file where the suite's folder must go")
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("the answer could not be recorded: cannot write '"), "\(r.stdout)")
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    #expect(report["cases"]?.arrayValue?.first?["status"] == "errored")
  }

  @Test func aGoldenThatCannotBeWrittenErrorsTheCase() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n    golden: true\n"], handler: echo)
    try p.dir.write("expectations/golden/s", "in the way")
    let r = await p.run(["--mode", "live", "--update-goldens"])
    #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("the golden could not be written"), "\(r.stdout)")
  }

  @Test func aPendingGoldenThatCannotBeWrittenSaysSo() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n    golden: true\n"], handler: echo)
    try FileManager.default.createDirectory(
      at: p.dir.url.appendingPathComponent("expectations/golden/s/a.txt.new"), withIntermediateDirectories: true)
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(
      r.stdout.contains("no golden at expectations/golden/s/a.txt; could not write expectations/golden/s/a.txt.new: "),
      "\(r.stdout)")
  }

  @Test func aReportThatCannotBeWrittenExitsThree() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n"], handler: echo)
    try p.dir.write("blocked", "a file, not a folder")
    let r = await p.run(["--mode", "live", "--json", "blocked/report.json"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("error: the report could not be written: cannot write"), "\(r.stderr)")
  }
}
