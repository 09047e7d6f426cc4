import Foundation

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
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var env = ProcessInfo.processInfo.environment
    for key in ["CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR", "OPENROUTER_API_KEY"] { env[key] = nil }
    env.merge(environment) { $1 }
    process.environment = env
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pc-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("out")
    let err = scratch.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    if let stdin {
      let input = scratch.appendingPathComponent("in")
      try stdin.write(to: input, atomically: true, encoding: .utf8)
      process.standardInput = try FileHandle(forReadingFrom: input)
    } else {
      process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus,
      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
  }

  /// Starts `run --mode live --quiet` in `directory` against the test key, without waiting: for
  /// tests that signal it while it runs.
  static func startLiveRun(in directory: URL) throws -> Process {
    let process = Process()
    process.executableURL = binary
    process.arguments = ["run", "--mode", "live", "--quiet"]
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(["LOCAL_TEST_KEY": "k-1234567"]) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
  }
}
