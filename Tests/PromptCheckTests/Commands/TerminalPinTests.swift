import Foundation
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckReport

/// The whole terminal output of the main commands (NO_COLOR), pinned the way `ReportPinTests`
/// pins reports: a change to what a user reads shows as a diff of the pin. Times, which vary,
/// are written `N ms` and `N s`; the project folder `PROJECT`.
/// To re-pin after an intended change: PROMPTCHECK_REPIN=1 swift test --filter TerminalPinTests
@Suite struct TerminalPinTests {
  /// A copy of `paths` (relative to the package root) in a fresh folder.
  static func copy(_ paths: [String]) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    for p in paths {
      let to = dir.url.appendingPathComponent(p)
      try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent(p), to: to)
    }
    return dir
  }

  static func normalized(_ text: String, project: TemporaryDirectory) -> String {
    var t = text.replacingOccurrences(of: project.url.path, with: "PROJECT")
    t = t.replacingOccurrences(of: #"\b\d+ ms\b"#, with: "N ms", options: .regularExpression)
    t = t.replacingOccurrences(of: #"\b\d+\.\d+ s\b"#, with: "N s", options: .regularExpression)
    return t
  }

  /// Runs `args` in `project` and compares the transcript with `terminal/PIN.txt`.
  static func check(_ pin: String, _ args: [String], in project: TemporaryDirectory, exit: Int32) async throws {
    let r = await CLI.run(args, in: project.url, environment: ["NO_COLOR": "1"])
    #expect(r.status == exit)
    let text =
      "$ promptcheck \(args.joined(separator: " "))\nexit \(r.status)\n--- stdout\n"
      + normalized(r.stdout, project: project) + "--- stderr\n" + normalized(r.stderr, project: project)
    let url = TestPaths.fixtures.appendingPathComponent("terminal/\(pin).txt")
    if ProcessInfo.processInfo.environment["PROMPTCHECK_REPIN"] == "1" {
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    let pinned = try String(contentsOf: url, encoding: .utf8)
    #expect(
      text == pinned,
      "\(pin) differs from its pin:\n\(UnifiedDiff.diff(old: pinned, new: text, oldName: "pinned", newName: "now"))")
  }

  @Test func theBundledExampleReplayed() async throws {
    let dir = try Self.copy(["promptcheck.yaml", "prompts", "expectations"])
    // One job: the progress lines come in plan order.
    try await Self.check("run-bundled", ["run", "--mode", "replay", "--jobs", "1"], in: dir, exit: 0)
  }

  @Test func theFailingExampleReplayed() async throws {
    let dir = try Self.copy(["Tests/examples"])
    try await Self.check(
      "run-failing", ["run", "--config", "Tests/examples/promptcheck.yaml", "--mode", "replay", "--jobs", "1"], in: dir,
      exit: 1)
  }

  @Test func validateTheBundledExample() async throws {
    let dir = try Self.copy(["promptcheck.yaml", "prompts", "expectations"])
    try await Self.check("validate-bundled", ["validate"], in: dir, exit: 0)
  }

  @Test func validateASuiteWithSeveralProblems() async throws {
    let dir = try Self.copy(["promptcheck.yaml"])
    try dir.write(
      "prompts/broken.yaml",
      """
      tests:
        - name: one
          prompt: "hello {{nmae}}"
          vars: {name: Ada}
          assert: [{contians: hello}]
        - name: one
          prompt: x
          repeat: 0
        - prompt: no name
      """)
    try await Self.check("validate-broken", ["validate"], in: dir, exit: 2)
  }

  @Test func compareTwoReports() async throws {
    let dir = try TemporaryDirectory()
    let base = try String(
      contentsOf: TestPaths.fixtures.appendingPathComponent("reports/report.json"), encoding: .utf8)
    try dir.write("base.json", base)
    // The head: one case regressed with a new answer.
    var json = try JSON.parse(base)
    guard case .object(var root) = json, case .array(var cases)? = root["cases"], case .object(var first) = cases[0]
    else { throw CancellationError() }
    first["status"] = "failed"
    first["output"] = "a different answer"
    cases[0] = .object(first)
    root["cases"] = .array(cases)
    json = .object(root)
    try dir.write("head.json", json.prettyPrinted(keys: .asWritten))
    try await Self.check("compare-reports", ["compare", "base.json", "head.json"], in: dir, exit: 0)
  }
}
