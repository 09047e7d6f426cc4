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
  @Option(name: .row(\.junit), help: .row(\.junit))
  var junit: String?

  @Option(name: .row(\.json), help: .row(\.json))
  var json: String?

  @Option(name: .row(\.html), help: .row(\.html))
  var html: String?

  @Flag(name: .row(\.junitFileAttributes), help: .row(\.junitFileAttributes))
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
  @Option(name: .row(\.minPassRate), help: .row(\.minPassRate))
  var minPassRate: Double?

  func apply(to s: inout RunSettings) { s.minPassRate = minPassRate }
}

/// Terminal output: shared by `run` and `merge`.
struct OutputOptions: ParsableArguments {
  @Flag(name: .row(\.noColor), help: .row(\.noColor))
  var noColor = false

  @Flag(name: .row(\.quiet), help: .row(\.quiet))
  var quiet = false

  @Flag(name: .row(\.verbose), help: .row(\.verbose))
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

/// A flag's name and help from its row of `RunSettings.table`.
extension NameSpecification {
  static func row(_ row: KeyPath<SettingsTable, some SettingRow>) -> NameSpecification {
    let r = RunSettings.table[keyPath: row]
    if let short = r.short { return [.customShort(short), .customLong(r.flag)] }
    return .customLong(r.flag)
  }
}

extension ArgumentHelp {
  static func row(_ row: KeyPath<SettingsTable, some SettingRow>) -> ArgumentHelp {
    let r = RunSettings.table[keyPath: row]
    return ArgumentHelp(r.flagHelp, valueName: r.valueName)
  }
}
