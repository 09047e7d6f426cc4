import Foundation
import Synchronization
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

@Suite struct SpoolTests {
  /// A spool's file part goes to the report's file by sendfile; where the kernel refuses (here an
  /// O_APPEND file, which sendfile does not write to), it goes through memory: the same bytes.
  @Test(arguments: [O_WRONLY, O_WRONLY | O_APPEND])
  func spooledBytesReachTheReportEitherWay(_ flags: Int32) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let spool = Spool(beside: dir + "/report.json", flushAt: 64)
    var expected: [UInt8] = []
    var ranges: [Range<Int>] = []
    for k in 0..<50 {
      let section = Array("section \(k) \(String(repeating: "x", count: k))\n".utf8)
      expected += section
      ranges.append(spool.append { $0 += section })
    }
    let path = dir + "/out"
    let fd = open(path, O_CREAT | flags, 0o644)
    #expect(fd >= 0)
    spool.sendTo = fd
    // Every range in turn (the file's and the pending bytes), written as a report would be.
    for r in ranges {
      spool.copy(r, to: { bytes in _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } })
    }
    close(fd)
    #expect(spool.failure == nil)
    #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == expected)
  }
}

@Suite struct CassettePrefetchTests {
  static func cases(_ count: Int, skipping skipped: Int) throws -> [PlannedCase] {
    var yaml = "model: m\ntests:\n"
    for i in 0..<count { yaml += "  - {name: t\(i), prompt: x\(i == skipped ? ", skip: later" : "")}\n" }
    let (suite, errors) = loadSuite(yaml)
    return Planner.plan([try #require(suite, "\(errors)")], PlanOptions())
  }

  /// Waits until `read` has seen `expected` cases, and a little longer (anything beyond the
  /// window would have come by then).
  static func settled(_ seen: borrowing Mutex<[String]>, _ expected: Int) async -> [String] {
    for _ in 0..<400 {
      if seen.withLock({ $0.count }) >= expected { break }
      try? await Task.sleep(for: .milliseconds(5))
    }
    try? await Task.sleep(for: .milliseconds(50))
    return seen.withLock { $0 }
  }

  /// The reads stay a window ahead of the cases started, skip skipped cases, hand each case its
  /// bytes once, and stop when told.
  @Test func readsStayAWindowAheadOfTheCasesStarted() async throws {
    let cases = try Self.cases(40, skipping: 3)
    let read = Mutex<[String]>([])
    let prefetch = CassettePrefetch(cases, window: 5, maxHeld: 1 << 20) { c in
      guard c.skip == nil else { return nil }
      read.withLock { $0.append(c.fileStem) }
      return Array(c.fileStem.utf8)
    }
    // Five ahead of none started; t3 is skipped (nothing to read).
    #expect(await Self.settled(read, 4) == ["t0", "t1", "t2", "t4"])
    for c in cases[0..<5] { #expect(prefetch.take(c) == (c.skip == nil ? Array(c.fileStem.utf8) : nil)) }
    // Taken once: a second take finds nothing held (and counts as a case started: six).
    #expect(prefetch.take(cases[0]) == nil)
    #expect(await Self.settled(read, 10).count == 10)
    for c in cases[5..<10] { #expect(prefetch.take(c) == Array(c.fileStem.utf8)) }
    #expect(await Self.settled(read, 15).count == 15)
    #expect(read.withLock { $0.last } == "t15")
    prefetch.stop()
    for c in cases[10...] { _ = prefetch.take(c) }
    try await Task.sleep(for: .milliseconds(50))
    #expect(read.withLock { $0.count } == 15)
  }

  /// A case that starts before its file is read ahead reads it itself: the read-ahead does not
  /// read it again, and nothing is held for it.
  @Test func aCaseThatComesFirstIsNotReadAhead() async throws {
    let cases = try Self.cases(10, skipping: -1)
    let read = Mutex<[String]>([])
    let gate = Mutex(false)
    let prefetch = CassettePrefetch(cases, window: 10, maxHeld: 1 << 20) { c in
      // The read-ahead waits at t0 until the test has taken t1, t2 and t3.
      while c.fileStem == "t0" && !gate.withLock({ $0 }) { usleep(1000) }
      read.withLock { $0.append(c.fileStem) }
      return Array(c.fileStem.utf8)
    }
    for c in cases[1...3] { #expect(prefetch.take(c) == nil) }
    gate.withLock { $0 = true }
    #expect(await Self.settled(read, 7) == ["t0", "t4", "t5", "t6", "t7", "t8", "t9"])
    #expect(prefetch.take(cases[0]) == Array("t0".utf8))
    #expect(prefetch.take(cases[9]) == Array("t9".utf8))
    prefetch.stop()
  }

  /// A read that went to the disk (a cold page cache; here, one that took long) has the next
  /// window's files hinted to the kernel; reads that did not hint nothing.
  @Test func aReadThatWaitsHasTheNextWindowHinted() async throws {
    let cases = try Self.cases(20, skipping: -1)
    let read = Mutex<[String]>([])
    let hinted = Mutex<[String]>([])
    let prefetch = CassettePrefetch(
      cases, window: 5, maxHeld: 1 << 20,
      read: { c in
        if c.fileStem == "t0" { usleep(5000) }
        read.withLock { $0.append(c.fileStem) }
        return []
      },
      hint: { c in hinted.withLock { $0.append(c.fileStem) } }, wentToDisk: { $0 > .milliseconds(2) })
    #expect(await Self.settled(read, 5).count == 5)
    #expect(hinted.withLock { $0 } == ["t1", "t2", "t3", "t4", "t5"])
    for c in cases[0..<5] { _ = prefetch.take(c) }
    #expect(await Self.settled(read, 10).count == 10)
    #expect(hinted.withLock { $0 }.count == 5)
    prefetch.stop()
  }

  /// No more than `maxHeld` bytes wait for their cases.
  @Test func whatIsHeldAheadIsBounded() async throws {
    let cases = try Self.cases(20, skipping: -1)
    let read = Mutex<[String]>([])
    let prefetch = CassettePrefetch(cases, window: 20, maxHeld: 3000) { c in
      read.withLock { $0.append(c.fileStem) }
      return [UInt8](repeating: 0, count: 1000)
    }
    #expect(await Self.settled(read, 3).count == 3)
    _ = prefetch.take(cases[0])
    #expect(await Self.settled(read, 4).count == 4)
    prefetch.stop()
  }
}
