import ArgumentParser
import Foundation
import PromptCheck
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// A command whose work is a library core run against a `CommandContext`: the real
/// process here, a capturing one in the tests.
protocol ContextCommand: AsyncParsableCommand {
  func run(in ctx: CommandContext) async -> ExitStatus
}

extension ContextCommand {
  mutating func run() async throws {
    let status = await run(in: .process())
    if status != .ok { throw ExitCode(status.rawValue) }
  }
}

extension RunMode: ExpressibleByArgument {}

extension Shard: ExpressibleByArgument {
  package init?(argument: String) { self.init(parsing: argument) }
}

/// Report files: shared by `run` and `merge`.
struct ReportOptions: ParsableArguments {
  @Option(help: "JUnit XML report (default .promptcheck/junit.xml).")
  var junit: String?

  @Option(help: "JSON report (default .promptcheck/report.json).")
  var json: String?

  @Option(help: "HTML report (default: none).")
  var html: String?

  @Flag(help: "Add file and line attributes to JUnit testcases (GitLab, GitHub reporters).")
  var junitFileAttributes = false

  func apply(to s: inout RunSettings) {
    s.junit = junit
    s.json = json
    s.html = html
    if junitFileAttributes { s.junitFileAttributes = true }
  }
}

/// How the run is judged: shared by `run` and `merge`.
struct GateOptions: ParsableArguments {
  @Option(
    help:
      "Exit 0 if at least this fraction of the cases that ran passed (0..1, default 1); errored cases are never excused."
  )
  var minPassRate: Double?

  func apply(to s: inout RunSettings) { s.minPassRate = minPassRate }
}

/// Terminal output: shared by `run` and `merge`.
struct OutputOptions: ParsableArguments {
  @Flag(help: "No colour.")
  var noColor = false

  @Flag(name: [.short, .long], help: "Only the summary.")
  var quiet = false

  @Flag(help: "Every case's details as it finishes.")
  var verbose = false

  func apply(to s: inout RunSettings) {
    if noColor { s.noColor = true }
    if quiet { s.quiet = true }
    if verbose { s.verbose = true }
  }
}

extension CommandContext {
  /// The real process: its environment, folder, terminal, stdout and stderr.
  static func process() -> CommandContext {
    var ctx = CommandContext(
      environment: ProcessInfo.processInfo.environment,
      directory: FileManager.default.currentDirectoryPath,
      stdoutIsTTY: isatty(STDOUT_FILENO) == 1,
      out: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
      err: { text in FileHandle.standardError.write(Data(text.utf8)) })
    var size = winsize()
    if ctx.stdoutIsTTY, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
      ctx.terminalWidth = Int(size.ws_col)
    }
    return ctx
  }
}
