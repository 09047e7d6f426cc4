import Foundation
import Testing

@testable import PromptCheck

/// The reports of one fixed run are pinned byte for byte: a restructuring must not change them.
/// The run is the bundled example replayed in-process, with the timings (which vary) set to constants.
/// To re-pin after an intended change: PROMPTCHECK_REPIN=1 swift test --filter ReportPinTests
@Suite struct ReportPinTests {
  static func pinnedReport() async throws -> Report {
    let root = TestPaths.packageRoot.path
    let loaded = ProjectLoader.load(configPath: "promptcheck.yaml", paths: [], directory: root)
    let project = try #require(loaded.project, "\(loaded.diagnostics)")
    let cases = Planner.plan(project.suites, PlanOptions())
    let store = CassetteStore(root: "expectations/cassettes", absoluteRoot: root + "/expectations/cassettes")
    let source = CassetteSource(
      store: store, mode: .replay, client: nil, budget: CostBudget(limit: nil), redactor: .none)
    let goldens = GoldenStore(root: "expectations/golden", absoluteRoot: root + "/expectations/golden", update: false)
    let summary = await Runner(source: source, jobs: 4, mode: .replay, goldens: goldens).run(cases) { _ in }
    var report = Report(summary)
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
    #expect(report.cases.count == 29)
    try Self.check("junit.xml", JUnitReport.render(report))
    try Self.check("report.json", JSONReport.render(report))
    try Self.check("report.html", HTMLReport.render(report))
  }
}
