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

struct AcceptCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "accept",
    abstract: "Turn pending golden files (*.new) into goldens.",
    discussion: """
      Renames each pending CASE.txt.new (or .json.new) over its golden and lists
      what it accepted. A FILTER keeps only the goldens whose SUITE/CASE contains
      it or matches it as a glob, or whose case has exactly that id (as run prints
      it: suite/case#2, suite/case[name=Bob]). With --from, the goldens are written
      from a JSON report's pending texts (download a CI run's report, accept, commit).

      Examples:
        promptcheck accept
        promptcheck accept 'refunds/*'
        promptcheck accept 'greetings/greet[name=Bob]'
        promptcheck accept --from ci-report.json
      """
  )

  @Argument(help: "Accept only goldens whose SUITE/CASE contains FILTER or matches it as a glob.")
  var filters: [String] = []

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Option(
    name: .customLong("from"),
    help: ArgumentHelp("Write the goldens that this JSON report left pending (e.g. a CI run's).", valueName: "REPORT"))
  var fromReport: String?

  func run(in ctx: CommandContext) async -> ExitStatus {
    if let fromReport {
      return GoldenCommandsCore.accept(fromReport: fromReport, filters: filters, configPath: config, ctx: ctx)
    }
    return GoldenCommandsCore.accept(filters: filters, configPath: config, ctx: ctx)
  }
}

struct ReviewCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "review",
    abstract: "Walk the pending goldens: show each diff, then accept, reject or skip it.",
    discussion: """
      Answers are read from the terminal, or line by line from standard input
      when it is not a terminal (a for accept, r for reject, s for skip, q to quit).
      """
  )

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Flag(help: "No colour.")
  var noColor = false

  func run() throws {
    let ctx = CommandContext.process()
    let color = ctx.stdoutIsTTY && !noColor && (ctx.environment["NO_COLOR"] ?? "").isEmpty
    let status: ExitStatus
    if isatty(STDIN_FILENO) == 1 {
      // On a terminal each answer is one keypress (no Enter).
      status = GoldenCommandsCore.review(configPath: config, color: color, ctx: ctx) {
        guard let key = readKeypress() else { return nil }
        ctx.out(key == "\n" ? "\n" : "\(key)\n")
        return String(key)
      }
    } else {
      status = GoldenCommandsCore.review(configPath: config, color: color, ctx: ctx) { Swift.readLine() }
    }
    if status != .ok { throw ExitCode(status.rawValue) }
  }
}

/// One key from the terminal, without waiting for Enter; nil at end of input or on Ctrl-C/Ctrl-D.
func readKeypress() -> Character? {
  var saved = termios()
  tcgetattr(STDIN_FILENO, &saved)
  var raw = saved
  raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
  withUnsafeMutableBytes(of: &raw.c_cc) { cc in
    cc[Int(VMIN)] = 1
    cc[Int(VTIME)] = 0
  }
  tcsetattr(STDIN_FILENO, TCSANOW, &raw)
  defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
  var byte: UInt8 = 0
  guard read(STDIN_FILENO, &byte, 1) == 1, byte != 3, byte != 4 else { return nil }
  return Character(Unicode.Scalar(byte))
}

struct MergeCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Combine the JSON reports of shards into one set of reports.",
    discussion: """
      The result holds the cases in the order of an unsharded run. With no output
      option it writes .promptcheck/junit.xml and .promptcheck/report.json. Exit
      status as for run: 0, 1 (failures), 3 (errors, or a report not written),
      2 (bad input).

      Example:
        promptcheck merge shard-*.json --junit junit.xml --html report.html
      """
  )

  @Argument(help: "JSON reports written by `promptcheck run --shard K/N --json FILE`.")
  var reports: [String]

  @OptionGroup var outputs: ReportOptions

  @OptionGroup var gate: GateOptions

  @OptionGroup var output: OutputOptions

  func validate() throws {
    if reports.isEmpty { throw ValidationError("give at least one JSON report to merge") }
  }

  func run(in ctx: CommandContext) async -> ExitStatus {
    var flags = RunSettings()
    outputs.apply(to: &flags)
    gate.apply(to: &flags)
    output.apply(to: &flags)
    return MergeCommandCore.run(files: reports, flags: flags, ctx)
  }
}

extension InitCommandCore.CI: ExpressibleByArgument {}

struct InitCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Start a project: config, example suite, editor schemas, a CI job, .gitignore lines.",
    discussion: """
      Writes only the files that are missing, and says what it skipped. The CI job
      replays the suites with promptcheck's GitHub Action (or, with --ci gitlab, a
      GitLab job whose JUnit report shows in merge requests).

      Examples:
        promptcheck init
        promptcheck init --shards 4 --action my-org/promptcheck@v0.1.0
        promptcheck init --ci gitlab
      """
  )

  @Option(help: "The CI job to write: github, gitlab or none.")
  var ci: InitCommandCore.CI = .github

  @Option(help: "The GitHub Action the workflow uses (where you host promptcheck).")
  var action: String?

  @Option(help: "Split the GitHub workflow across this many shards, merged afterwards.")
  var shards: Int?

  func validate() throws {
    if let shards, !(1...64).contains(shards) { throw ValidationError("--shards must be from 1 to 64") }
  }

  func run(in ctx: CommandContext) async -> ExitStatus {
    var o = InitCommandCore.Options()
    o.ci = ci
    if let action { o.action = action }
    o.shards = shards
    return InitCommandCore.run(o, ctx: ctx)
  }
}
