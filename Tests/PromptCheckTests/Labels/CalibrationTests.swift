import Foundation
import LoopbackServer
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckEvaluate

/// Cohen's κ against worked examples, and label → calibrate → gate through the commands.
@Suite struct AgreementTests {
  @Test func perfectAgreementIsOne() {
    let a = Agreement(bothPass: 7, judgePassPersonFail: 0, judgeFailPersonPass: 0, bothFail: 3)
    #expect(a.observed == 1)
    #expect(a.kappa == 1)
  }

  @Test func agreementAtChanceIsZero() {
    // Each rater says pass half the time, independently: they agree half the time, as chance does.
    let a = Agreement(bothPass: 25, judgePassPersonFail: 25, judgeFailPersonPass: 25, bothFail: 25)
    #expect(a.observed == 0.5)
    #expect(a.chance == 0.5)
    #expect(a.kappa == 0)
  }

  /// The textbook example (Wikipedia, "Cohen's kappa"): 50 proposals read by two readers, 20
  /// both yes, 15 both no, 5 and 10 split: p_o = 0.7, p_e = 0.5, κ = 0.4.
  @Test func thePublishedExample() throws {
    let a = Agreement(bothPass: 20, judgePassPersonFail: 5, judgeFailPersonPass: 10, bothFail: 15)
    #expect(a.observed == 0.7)
    #expect(abs(try #require(a.chance) - 0.5) < 1e-12)
    #expect(abs(try #require(a.kappa) - 0.4) < 1e-12)
  }

  @Test func worseThanChanceIsNegativeAndOneVerdictIsUndefined() throws {
    let a = Agreement(bothPass: 0, judgePassPersonFail: 5, judgeFailPersonPass: 5, bothFail: 0)
    #expect(try #require(a.kappa) == -1)
    #expect(Agreement(bothPass: 4).kappa == nil)
    #expect(Agreement().kappa == nil)
  }
}

@Suite struct CalibrationCommandTests {
  /// Five cases graded by a rubric under calibration (weight 0: it fails no case); the grader
  /// passes those whose answer says "Paris".
  static func suite(minKappa: String = "") -> String {
    """
    defaults:
      assert:
        - contains: Echo
        - {llm-rubric: {rubric: The answer names the capital\(minKappa)}, weight: 0}
    tests:
      - {name: a, prompt: Paris}
      - {name: b, prompt: Paris again}
      - {name: c, prompt: Lyon}
      - {name: d, prompt: Nice}
      - {name: e, prompt: Paris or Lyon}
    """
  }

  static func project(_ suite: String) throws -> Project {
    var server = JudgeServer()
    server.verdict = { _, output in
      output.contains("Paris")
        ? #"{"pass": true, "score": 1, "reason": "names Paris"}"#
        : #"{"pass": false, "score": 0, "reason": "no capital"}"#
    }
    return try Project(suites: ["cap": suite], handler: server.handler)
  }

  func label(_ p: Project, _ id: String, _ verdict: Label.Verdict, assert n: Int? = 1, note: String? = nil) async
    -> BinaryRunner.Result
  {
    await CLI.run(
      ["label", id, verdict.rawValue] + (n.map { ["--assert", "\($0)"] } ?? []) + (note.map { ["--note", $0] } ?? []),
      in: p.dir.url, environment: ["USER": "tester"])
  }

  @Test func labelsAreWrittenAndCalibrationIsMeasured() async throws {
    let p = try Self.project(Self.suite())
    #expect(await p.run(["--mode", "record"]).status == 0)
    // People agree with the grader on a, b, c, d and not on e ("Paris or Lyon" is not one capital).
    for (id, v) in [("cap/a", Label.Verdict.pass), ("cap/b", .pass), ("cap/c", .fail), ("cap/d", .fail)] {
      let r = await label(p, id, v)
      #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }
    let last = await label(p, "cap/e", .fail, note: "two cities")
    #expect(last.stdout.contains("labelled cap/e assert[1] fail in expectations/labels/cap.yaml"), "\(last.stdout)")
    let file = try p.dir.read("expectations/labels/cap.yaml")
    #expect(file.contains("case: cap/e\n  assert: 1\n  label: fail\n  note: two cities\n"), "\(file)")
    #expect(file.contains("answer: fnv1a64:"))
    // Relabelling replaces.
    #expect(await label(p, "cap/a", .pass).status == 0)
    #expect(try p.dir.read("expectations/labels/cap.yaml").components(separatedBy: "case: cap/a\n").count == 2)

    let r = await CLI.run(["calibrate", "--json", "cal.json", "--markdown", "cal.md"], in: p.dir.url)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("prompts/cap.yaml:4 llm-rubric \"The answer names the capital\""), "\(r.stdout)")
    // po = 0.8; judge passes 3 of 5, people 2 of 5: pe = 0.6·0.4 + 0.4·0.6 = 0.48; κ = 0.32/0.52.
    #expect(r.stdout.contains("labels 5, agreement 80%, κ 0.62"), "\(r.stdout)")
    #expect(r.stdout.contains("  judge pass             2            1\n  judge fail             0            2\n"))
    #expect(r.stdout.contains("disagrees: cap/e assert[1]"))
    let json = try JSON.parse(p.dir.read("cal.json"))
    let first = try #require(json.arrayValue?.first)
    #expect(first["labels"] == 5)
    #expect(abs((first["kappa"]?.numberValue ?? 0) - 0.32 / 0.52) < 1e-9)
    #expect(first["confusion"]?["judge_pass_person_fail"] == 1)
    #expect(try p.dir.read("cal.md").contains("| `prompts/cap.yaml:4` llm-rubric | 5 | 80% | 0.62 |"))
  }

  @Test func minKappaFailsAndPassesTheRunsGate() async throws {
    let p = try Self.project(Self.suite(minKappa: ", min_kappa: 0.7, min_labels: 4"))
    #expect(await p.run(["--mode", "record"]).status == 1, "no labels yet: min_labels 4 not met")
    for (id, v) in [
      ("cap/a", Label.Verdict.pass), ("cap/b", .pass), ("cap/c", .fail), ("cap/d", .fail), ("cap/e", .fail),
    ] {
      #expect(await label(p, id, v).status == 0)
    }
    // κ 0.62 < 0.7: the replay fails the gate, with the figures, at no cost.
    let failing = await p.run(["--mode", "replay"])
    #expect(failing.status == 1, "\(failing.stdout)\(failing.stderr)")
    #expect(
      failing.stdout.contains(
        "calibration: prompts/cap.yaml:4 llm-rubric FAILS: κ 0.62 is below min_kappa 0.7 (5 labels, agreement 80%, κ 0.62)"
      ),
      "\(failing.stdout)")
    #expect(failing.stdout.contains("5 passed, 0 failed"), "every case passed; only the gate failed")
    // People come round on e: perfect agreement, the gate holds.
    #expect(await label(p, "cap/e", .pass).status == 0)
    let passing = await p.run(["--mode", "replay"])
    #expect(passing.status == 0, "\(passing.stdout)")
    #expect(passing.stdout.contains("holds min_kappa 0.7 (5 labels, agreement 100%, κ 1.00)"), "\(passing.stdout)")
    #expect(await CLI.run(["calibrate"], in: p.dir.url).status == 0)
  }

  @Test func tooFewLabelsFailTheGateAndAChangedAnswerMakesALabelStale() async throws {
    let p = try Self.project(Self.suite(minKappa: ", min_kappa: 0.5"))
    #expect(await p.run(["--mode", "record"]).status == 1)
    #expect(await label(p, "cap/a", .pass).status == 0)
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("FAILS: 1 label, min_labels is 5"), "\(r.stdout)")
    // The answer of a changes: its label no longer counts.
    try p.dir.write(
      "prompts/cap.yaml",
      Self.suite(minKappa: ", min_kappa: 0.5").replacingOccurrences(of: "prompt: Paris}", with: "prompt: Paris!}"))
    #expect(await p.run(["--mode", "auto"]).status == 1)
    let cal = await CLI.run(["calibrate"], in: p.dir.url)
    #expect(cal.stdout.contains("labels 0, κ n/a, 1 stale (the answer changed since)"), "\(cal.stdout)")
    #expect(cal.status == 1)
  }

  @Test func labelErrorsAreClear() async throws {
    let p = try Self.project(Self.suite())
    let none = await label(p, "cap/a", .pass)
    #expect(none.status == 2)
    #expect(none.stderr.contains(".promptcheck/report.json is missing: run the suite first"), "\(none.stderr)")
    #expect(await p.run(["--mode", "record"]).status == 0)
    let typo = await label(p, "cap/aa", .pass)
    #expect(typo.stderr.contains("has no case 'cap/aa'; did you mean 'cap/a'?"), "\(typo.stderr)")
    let noAssert = await label(p, "cap/a", .pass, assert: 7)
    #expect(noAssert.stderr.contains("case 'cap/a' has no assert[7]"), "\(noAssert.stderr)")
    let bad = await CLI.run(["label", "cap/a", "maybe"], in: p.dir.url)
    #expect(bad.status == 2)
    try p.dir.write("expectations/labels/cap.yaml", "labels: {not: a list}\n")
    let broken = await CLI.run(["calibrate"], in: p.dir.url)
    #expect(broken.status == 2)
    #expect(broken.stderr.contains("expectations/labels/cap.yaml: needs a labels: list"), "\(broken.stderr)")
    try p.dir.write("promptcheck.yaml", try p.dir.read("promptcheck.yaml") + "\ncalibration: {min_labels: 3}\n")
    let config = await p.run(["--mode", "replay"])
    #expect(config.status == 2)
    #expect(config.stderr.contains("calibration.min_labels needs min_kappa"), "\(config.stderr)")
  }
}
