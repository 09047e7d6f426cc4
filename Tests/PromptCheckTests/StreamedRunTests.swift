import Foundation
import Synchronization
import Testing

@testable import PromptCheck

/// Answers each case after a delay its test asks for (`slow`: 1 s, others at once); a
/// repetition of `coin` answers `tails` on its second sample, `heads` otherwise.
struct DelayedSource: CompletionSource {
  /// The case run through this source, as the runner runs it.
  static func result(_ c: PlannedCase) async -> CaseResult {
    await Runner(source: DelayedSource(), jobs: 1, mode: .replay).execute(c)
  }

  func fetch(_ c: PlannedCase) async -> FetchResult {
    if c.testName == "slow" { try? await Task.sleep(for: .milliseconds(1000)) }
    let content = c.testName == "coin" && c.repeatIndex == 2 ? "tails" : "heads"
    return FetchResult(
      result: .success(Completion(content: content)), attempts: 0,
      cassette: CassetteReport(path: "c/\(c.fileStem).yaml", status: .replayed))
  }

  func judge(_ call: JudgeCall, for c: PlannedCase, fetched: FetchResult) async -> Result<JudgeAnswer, CallError> {
    .failure(CallError(.noCassette, "no judge here"))
  }

  func finish(_ c: PlannedCase, fetched: inout FetchResult, judges: [Cassette.JudgeRecord]) -> CallError? { nil }
}

@Suite struct StreamedRunTests {
  static let suite = """
    model: m
    tests:
      - {name: slow, prompt: x, assert: [{contains: heads}]}
      - {name: a, prompt: x, assert: [{contains: heads}]}
      - {name: coin, prompt: x, repeat: 3, min_pass_rate: 0.6, assert: [{contains: heads}]}
      - {name: b, prompt: x, assert: [{contains: heads}]}
    """

  /// Cases reach the reporters in plan order while the run goes on (not all at its end); a
  /// repeated test's samples once all are in, its failed one tolerated by the pass-rate gate.
  @Test func casesAreReportedInPlanOrderAsTheRunGoes() async throws {
    let (suite, errors) = loadSuite(Self.suite)
    let cases = Planner.plan([try #require(suite, "\(errors)")], PlanOptions())
    var events: [String] = []
    var reported: [ReportCase] = []
    let summary = await Runner(source: DelayedSource(), jobs: 2, mode: .replay).run(cases) { event in
      switch event {
      case .caseFinished(let r, _, _): events.append("finished " + r.plannedCase.id)
      case .caseReported(let c):
        events.append("reported " + c.id)
        reported.append(c)
      default: break
      }
    }
    #expect(reported.map(\.id) == ["s/slow", "s/a", "s/coin#1", "s/coin#2", "s/coin#3", "s/b"])
    // `a` and the first coin finish while `slow` holds the head of the line; nothing is reported
    // before `slow` is, and every case is reported as soon as the ones before it are.
    let slowFinished = try #require(events.firstIndex(of: "finished s/slow"))
    #expect(events.firstIndex(of: "finished s/a")! < slowFinished)
    #expect(events[slowFinished + 1] == "reported s/slow")
    #expect(events[slowFinished + 2] == "reported s/a")
    // The coin's samples wait for its last one; then the gate has marked the failure tolerated.
    let lastCoin = try #require(events.firstIndex(of: "finished s/coin#3"))
    #expect(events.firstIndex(of: "reported s/coin#1")! > lastCoin)
    #expect(reported.first { $0.id == "s/coin#2" }?.tolerated == true)
    #expect(reported.first { $0.id == "s/coin#2" }?.notes.first?.hasPrefix("tolerated: 2 of 3") == true)
    #expect(summary.groups.map(\.id) == ["s/coin"])
    #expect(summary.tally.passed == 5 && summary.tally.tolerated == 1 && summary.tally.failed == 0)
  }

  /// A case that never comes back holds back the ones after it; at the end they are reported
  /// anyway, in plan order, a repeated test settled on the samples it has.
  @Test func whatIsHeldAtTheEndIsReportedInOrder() async throws {
    let (suite, errors) = loadSuite(Self.suite)
    let cases = Planner.plan([try #require(suite, "\(errors)")], PlanOptions())
    var order = ReportOrder(cases, goldens: nil)
    // slow (0) and coin#2 (3) never come back; a, coin#1, coin#3 and b do.
    for i in [1, 2, 4, 5] { #expect(order.take(i, await DelayedSource.result(cases[i])).isEmpty) }
    #expect(order.drain().map(\.plannedCase.id) == ["s/a", "s/coin#1", "s/coin#3", "s/b"])
    #expect(order.groups.map { "\($0.id) \($0.passes)/\($0.runs)" } == ["s/coin 2/2"])
    #expect(order.drain().isEmpty)
  }

  /// A spool that cannot be made (its folder cannot be created) keeps the sections in memory:
  /// the report is still written whole where it can be, and where it cannot the run says so.
  @Test func aReportThatCannotBeWrittenIsSaidAtTheEnd() async throws {
    let temp = try TemporaryDirectory()
    let dir = temp.url
    // A file where the report's folder should be.
    try "x".write(toFile: dir.path + "/blocked", atomically: true, encoding: .utf8)
    let errors = Mutex("")
    let ctx = CommandContext(
      environment: [:], directory: dir.path, stdoutIsTTY: false, out: { _ in },
      err: { e in errors.withLock { $0 += e } })
    let stream = ReportStream(
      ReportWriter(junit: "blocked/junit.xml", json: "ok/report.json", html: nil), absolute: ctx.absolute)
    let report = try ReportPinTests.richReport()
    for c in report.cases { stream.handle(RunEvent.caseReported(c)) }
    #expect(!stream.finish(report.head, report.totals, ctx))
    #expect(
      errors.withLock { $0 }.hasPrefix(
        "error: the report could not be written: cannot write '\(dir.path)/blocked/junit.xml'"))
    #expect(try String(contentsOfFile: dir.path + "/ok/report.json", encoding: .utf8) == JSONReport.render(report))
  }
}

@Suite struct CassettePrefetchTests {
  /// The hints stay a window ahead of the cases started, skip skipped cases, and stop when told.
  @Test func hintsStayAWindowAheadOfTheCasesStarted() async throws {
    var yaml = "model: m\ntests:\n"
    for i in 0..<40 { yaml += "  - {name: t\(i), prompt: x\(i == 3 ? ", skip: later" : "")}\n" }
    let (suite, errors) = loadSuite(yaml)
    let cases = Planner.plan([try #require(suite, "\(errors)")], PlanOptions())
    let hinted = Mutex<[String]>([])
    func settled(_ expected: Int) async -> [String] {
      for _ in 0..<400 {
        if hinted.withLock({ $0.count }) >= expected { break }
        try? await Task.sleep(for: .milliseconds(5))
      }
      // Anything beyond the window would have come by now.
      try? await Task.sleep(for: .milliseconds(50))
      return hinted.withLock { $0 }
    }
    let prefetch = CassettePrefetch(cases, window: 5) { c in
      if c.skip == nil { hinted.withLock { $0.append(c.fileStem) } }
    }
    // Five ahead of none started; t3 is skipped (nothing to read).
    #expect(await settled(4) == ["t0", "t1", "t2", "t4"])
    for _ in 0..<10 { prefetch.caseStarted() }
    #expect(await settled(14).count == 14)
    #expect(hinted.withLock { $0.last } == "t14")
    prefetch.stop()
    for _ in 0..<30 { prefetch.caseStarted() }
    try await Task.sleep(for: .milliseconds(50))
    #expect(hinted.withLock { $0.count } == 14)
  }
}
