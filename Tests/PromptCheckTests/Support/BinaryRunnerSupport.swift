import Foundation

@testable import PromptCheckExecute

/// Runs the built `promptcheck` binary, as a user would.
struct BinaryRunner {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static let binary: URL = {
    let candidates = [
      Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("promptcheck"),
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("promptcheck"),
      TestPaths.packageRoot.appendingPathComponent(".build/debug/promptcheck"),
    ].compactMap { $0 }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
  }()

  /// Runs with `arguments` in `directory`. The environment is the test's, minus CI
  /// variables (so defaults do not depend on where the tests run), plus `environment`.
  static func run(
    _ arguments: [String], in directory: URL, environment: [String: String] = [:], stdin: String? = nil
  ) throws -> Result {
    // Through the project's own spawn, not Foundation's Process.run() (see Subprocess.capture).
    let r = try Subprocess.capture(
      [binary.path] + arguments, input: Array((stdin ?? "").utf8), timeoutMS: 600_000, maxOutput: 64 << 20,
      environment: environment.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) },
      unsetting: ["CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR", "OPENROUTER_API_KEY"],
      cwd: directory.path
    ).get()
    // A signal's end as a shell gives it: 128 + the signal.
    return Result(
      status: r.status ?? 128 + (r.signal ?? 0),
      stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
  }

  /// Starts `run --mode live --quiet` in `directory` against the test key, without waiting: for
  /// tests that signal it while it runs. `arguments` come after those.
  static func startLiveRun(in directory: URL, _ arguments: [String] = []) throws -> Background {
    try Background(
      [binary.path, "run", "--mode", "live", "--quiet"] + arguments, in: directory,
      environment: ["LOCAL_TEST_KEY": "k-1234567"])
  }
}
