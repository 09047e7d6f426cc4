import Foundation
import LoopbackServer
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

@Suite struct TerminalReporterTests {
  func result(_ id: String, _ status: CaseStatus, findings: [Finding] = []) throws -> CaseResult {
    let t = try loadTest("tests:\n  - name: \(id)\n    prompt: x\n")
    let c = Planner.plan([Suite(name: "s", file: "prompts/s.yaml", description: nil, tests: [t])], PlanOptions())[0]
    return CaseResult(
      plannedCase: c,
      outcome: status == .errored
        ? .errored("HTTP 503: busy")
        : status == .skipped ? .skipped("not today") : status == .passed ? .passed : .failed,
      findings: findings,
      completion: nil, durationMS: 12, attempts: 1, cassette: CassetteReport(path: "p", status: .replayed),
      golden: GoldenReport(status: .none))
  }

  @Test func plainLinesWhenNotATerminal() throws {
    let sink = Sink()
    let r = TerminalReporter(style: .init(isTTY: false, color: false)) { sink.write($0) }
    let failed = Finding(
      label: "assert[0]", kind: "contains", passed: false,
      message: "expected the output to contain \"x\", but it does not",
      location: SourceLocation(file: "prompts/s.yaml", line: 4, column: 9))
    let cases = [try result("a", .passed), try result("b", .failed, findings: [failed]), try result("c", .errored)]
    r.handle(.runStarted(RunStart(startedAt: Date(), caseCount: 3, mode: .replay)))
    for (i, c) in cases.enumerated() { r.handle(.caseFinished(c, completed: i + 1, total: 3)) }
    finishRun(r, cases, durationMS: 1234, mode: .replay)
    #expect(
      sink.value == """
        promptcheck 0.1.0: 3 cases (mode replay)
        PASS  s/a  12 ms, replayed
        FAIL  s/b  12 ms, replayed
        ERROR s/c  12 ms, replayed

        FAIL  s/b  12 ms, replayed
            prompts/s.yaml:4: assert[0] contains: expected the output to contain "x", but it does not
        ERROR s/c  12 ms, replayed
            prompts/s.yaml:2: HTTP 503: busy

        1 passed, 1 failed, 1 errored, 0 skipped in 1.23 s

        """)
  }

  @Test func progressBarOnATerminal() throws {
    let sink = Sink()
    let r = TerminalReporter(style: .init(isTTY: true, color: true)) { sink.write($0) }
    r.handle(.runStarted(RunStart(startedAt: Date(), caseCount: 4, mode: .live)))
    r.handle(.caseFinished(try result("a", .passed), completed: 1, total: 4))
    #expect(sink.value.contains("\r\u{1B}[2K[██████░░░░░░░░░░░░░░░░░░] 1/4"))
    #expect(sink.value.contains("\u{1B}[32m✓ 1\u{1B}[0m"))
    #expect(sink.value.contains("ETA 0:"))
    r.handle(.caseFinished(try result("b", .skipped), completed: 2, total: 4))
    #expect(sink.value.contains("] 2/4"))
    #expect(!sink.value.contains("PASS"))
  }

  @Test func quietPrintsOnlyTheSummary() throws {
    let sink = Sink()
    let r = TerminalReporter(style: .init(isTTY: false, color: false, quiet: true)) { sink.write($0) }
    let c = try result("a", .passed)
    r.handle(.runStarted(RunStart(startedAt: Date(), caseCount: 1, mode: .replay)))
    r.handle(.caseFinished(c, completed: 1, total: 1))
    finishRun(r, [c], durationMS: 5, mode: .replay)
    #expect(sink.value == "\n1 passed, 0 failed, 0 errored, 0 skipped in 0.01 s\n")
  }
}

@Suite struct InterruptTests {
  @Test func ctrlCCancelsInFlightRequestsAndStillWritesReports() throws {
    var tests = "tests:\n"
    for i in 0..<10 { tests += "  - {name: case \(i), prompt: x}\n" }
    let p = try Project(suites: ["slow": tests]) { _, _ in .delayed(30, .json(FakeOpenAI.completion("late"))) }
    // --no-adapt: all 8 (--jobs' default) in flight at once; the adaptive window would start at 1
    // and grow only with answers, which take 30 s here.
    let process = try BinaryRunner.startLiveRun(in: p.dir.url, ["--no-adapt"])
    let deadline = Date().addingTimeInterval(10)
    while p.server.requests.count < 8 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    #expect(p.server.requests.count == 8, "the requests in flight when Ctrl-C comes")
    let start = Date()
    process.signal(SIGINT)
    let status = process.waitForExit(within: 30)
    #expect(Date().timeIntervalSince(start) < 5)
    #expect(status == 130, "\(process.output)")
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    #expect(report["summary"]?["errored"] == 10)
  }
}

@Suite struct JUnitFileAttributeTests {
  @Test func fileAndLineOnlyWhenAsked() async throws {
    let p = try Project(suites: ["a": "tests:\n  - {name: t, prompt: x}\n"], handler: echo)
    _ = await p.run(["--mode", "live"])
    #expect(!(try p.dir.read(".promptcheck/junit.xml").contains("file=")))
    _ = await p.run(["--mode", "live", "--junit-file-attributes"])
    #expect(try p.dir.read(".promptcheck/junit.xml").contains("<testcase name=\"t\" classname=\"a\" time=\""))
    #expect(try p.dir.read(".promptcheck/junit.xml").contains(" file=\"prompts/a.yaml\" line=\"2\""))
  }
}

@Suite struct TerminalBehaviourTests {
  func reporter(_ style: TerminalReporter.Style) -> (TerminalReporter, Sink) {
    let sink = Sink()
    return (TerminalReporter(style: style) { sink.write($0) }, sink)
  }

  @Test func theProgressLineFitsANarrowTerminal() throws {
    let t = TerminalReporterTests()
    for width in [45, 30, 12] {
      let (r, sink) = reporter(.init(isTTY: true, color: false, width: width))
      r.handle(.runStarted(RunStart(startedAt: Date(), caseCount: 400, mode: .replay)))
      for i in 1...3 { r.handle(.caseFinished(try t.result("c\(i)", .passed), completed: i, total: 400)) }
      let updates = sink.value.components(separatedBy: "\r\u{1B}[2K").dropFirst()
      #expect(updates.count == 3)
      for u in updates { #expect(u.count < width, "width \(width): \(u.debugDescription)") }
    }
  }

  @Test func aDumbTerminalGetsNoEscapesAndNoBar() async throws {
    let p = try Project(suites: ["s": "tests:\n  - {name: a, prompt: x}\n"], handler: echo)
    let dir = p.dir.url
    let out = Sink()
    var ctx = CommandContext(
      environment: ["TERM": "dumb", "LOCAL_TEST_KEY": "k-123456"], directory: dir.path, stdoutIsTTY: true,
      out: { out.write($0) }, err: { _ in })
    ctx.terminalWidth = 80
    var invocation = RunInvocation()
    invocation.flags.mode = .live
    _ = await RunCommandCore.run(invocation, ctx)
    #expect(!out.value.contains("\u{1B}"))
    #expect(out.value.contains("PASS  s/a"))
  }

  @Test func failuresAreSaidAsTheyHappenOnATerminal() throws {
    let t = TerminalReporterTests()
    let (r, sink) = reporter(.init(isTTY: true, color: false))
    r.handle(.runStarted(RunStart(startedAt: Date(), caseCount: 2, mode: .replay)))
    r.handle(.caseFinished(try t.result("bad", .errored), completed: 1, total: 2))
    #expect(sink.value.contains("ERROR s/bad  12 ms, replayed  HTTP 503: busy\n"))
  }

  @Test func ctrlCIsOneLine() throws {
    let t = TerminalReporterTests()
    let (r, sink) = reporter(.init(isTTY: false, color: false))
    var cases: [CaseResult] = []
    for i in 0..<5 {
      var c = try t.result("c\(i)", .errored)
      c.outcome = .errored("cancelled")
      cases.append(c)
      r.handle(.caseFinished(c, completed: i + 1, total: 5))
    }
    finishRun(r, cases, durationMS: 5, mode: .live)
    #expect(sink.value.components(separatedBy: "cancelled").count == 2, "\(sink.value)")
    #expect(sink.value.contains("cancelled (Ctrl-C): 5 cases did not finish\n"))
  }

  @Test func verboseShowsWhatAPassingCaseChecked() async throws {
    let p = try Project(suites: ["s": "tests:\n  - {name: a, prompt: x, assert: [{contains: Echo}]}\n"], handler: echo)
    let r = await p.run(["--mode", "live", "--verbose"])
    #expect(r.stdout.contains("PASS  s/a"))
    #expect(r.stdout.contains("    output: \"Echo: x\"\n    ✓ assert[0] contains: the output does contain \"Echo\""))
  }

  @Test func autoSaysWhichCasesWereRecordedLive() async throws {
    let p = try Project(suites: ["s": "tests:\n  - {name: a, prompt: x}\n  - {name: b, prompt: y}\n"], handler: echo)
    _ = await p.run(["--mode", "record", "--case", "s/a"])
    let r = await p.run(["--mode", "auto"])
    #expect(r.stdout.contains("PASS  s/b"))
    #expect(r.stdout.contains("recorded live (no cassette, or a stale one): s/b\n"))
    #expect(r.stdout.contains("replayed"))
  }

  @Test func aMistypedCommandGetsDidYouMean() async throws {
    let dir = try TemporaryDirectory()
    let r = await CLI.run(["rnu"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("error: unknown command 'rnu'; did you mean 'run'?"))
    let q = await CLI.run(["run", "-q", "-j", "2", "--allow-empty", "--filter", "none"], in: dir.url)
    #expect(q.stderr.contains("no tests dir"))
  }
}
