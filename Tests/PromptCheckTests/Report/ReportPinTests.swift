import Foundation
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

/// The reports of one fixed run are pinned byte for byte: a restructuring must not change them.
/// The run is the bundled example replayed in-process, with the timings (which vary) set to constants.
/// To re-pin after an intended change: PROMPTCHECK_REPIN=1 swift test --filter ReportPinTests
@Suite struct ReportPinTests {
  static func pinnedReport() async throws -> Report {
    let root = TestPaths.packageRoot.path
    let loaded = ProjectLoader.load(configPath: "promptcheck.yaml", paths: [], directory: root)
    let project = try #require(loaded.project, "\(loaded.diagnostics)")
    let cases = Planner.plan(project.suites, PlanOptions())
    let store = CassetteStore(root: "expectations/cassettes", project: ProjectRoot(root))
    let source = CassetteSource(
      store: store, mode: .replay, client: nil, budget: CostBudget(limit: nil), redactor: .none)
    let goldens = GoldenStore(root: "expectations/golden", project: ProjectRoot(root), update: false)
    var reported: [ReportCase] = []
    let summary = await Runner(source: source, jobs: 4, mode: .replay, goldens: goldens).run(cases) { event in
      if case .caseReported(let c) = event { reported.append(c) }
    }
    var report = Report(summary.head, cases: reported)
    report.startedAt = Date(timeIntervalSince1970: 1_800_000_000)
    report.durationMS = 1234
    for i in report.cases.indices { report.cases[i].durationMS = 5 }
    return report
  }

  static func check(_ name: String, _ text: String) throws {
    let url = TestPaths.fixtures.appendingPathComponent("reports/\(name)")
    if ProcessInfo.processInfo.environment["PROMPTCHECK_REPIN"] == "1" {
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    let pinned = try String(contentsOf: url, encoding: .utf8)
    #expect(
      text == pinned,
      "\(name) differs from its pin:\n\(UnifiedDiff.diff(old: pinned, new: text, oldName: name, newName: "now"))")
  }

  @Test func reportsAreByteIdenticalToThePin() async throws {
    let report = try await Self.pinnedReport()
    #expect(report.cases.count == 33)
    try Self.check("junit.xml", JUnitReport.render(report))
    try Self.check("report.json", JSONReport.render(report))
    try Self.check("report.html", HTMLReport.render(report))
  }

  /// A report of what the example lacks: failures (one with a golden diff and a judged score), an
  /// error, a skip, a tolerated repetition of a flaky test, suites whose cases interleave, targets
  /// side by side (a row that differs, a missing cell), usage with costs, an answer changed on
  /// re-recording, a budget. Pinned as the renderers wrote it before the run was streamed.
  static func richReport() throws -> Report {
    let text = try String(
      contentsOf: TestPaths.fixtures.appendingPathComponent("reports/rich/input.json"), encoding: .utf8)
    guard case .success(let report) = JSONReport.parse(text, file: "input.json") else {
      throw CocoaError(.fileReadCorruptFile)
    }
    return report
  }

  static func withFileAttributes() -> JUnitReport.Options {
    var o = JUnitReport.Options()
    o.fileAttributes = true
    return o
  }

  @Test func aReportWithFailuresTargetsAndRepeatsIsByteIdenticalToThePin() throws {
    let report = try Self.richReport()
    #expect(report.cases.count == 9)
    try Self.check("rich/junit.xml", JUnitReport.render(report))
    try Self.check("rich/junit-file-attributes.xml", JUnitReport.render(report, options: Self.withFileAttributes()))
    try Self.check("rich/report.json", JSONReport.render(report))
    try Self.check("rich/report.html", HTMLReport.render(report))
  }

  /// The reports a run writes as it streams (each case's section spooled to a file beside its
  /// report, the head written at the end) are the same bytes; nothing is left beside them.
  /// `spoolFlush` 1 sends every section to the spool file at once; 2,000 bytes leaves the last
  /// sections in memory, so a report is read back from both.
  @Test(arguments: ["", "rich/"], [1, 2_000])
  func streamedReportsAreByteIdenticalToThePin(_ pin: String, spoolFlush: Int) async throws {
    let report = pin.isEmpty ? try await Self.pinnedReport() : try Self.richReport()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pin-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let ctx = CommandContext(environment: [:], directory: dir, stdoutIsTTY: false, out: { _ in }, err: { _ in })
    // (A run's spool waits for a megabyte.)
    let stream = ReportStream(
      ReportWriter(junit: "out/junit.xml", json: "out/report.json", html: "out/report.html"), absolute: ctx.absolute,
      spoolFlush: spoolFlush)
    for c in report.cases { stream.handle(.caseReported(c)) }
    #expect(stream.finish(report.head, report.totals, ctx))
    for name in ["junit.xml", "report.json", "report.html"] {
      try Self.check(pin + name, String(contentsOfFile: dir + "/out/" + name, encoding: .utf8))
    }
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted() == [
        "junit.xml", "report.html", "report.json",
      ])
  }
}
