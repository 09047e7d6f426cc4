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
import Synchronization

struct RunCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run suites: replay cassettes or call the API, check every assertion, write reports.",
    discussion: """
      Every option can also be set in promptcheck.yaml; the flag wins.
      Exit status: 0 every test passed, 1 an assertion or golden failed,
      3 nothing failed but a case (or a report) could not be produced,
      2 invalid invocation or files, 130 cancelled with Ctrl-C.

      Examples:
        promptcheck run                               replay (CI) or replay-else-record (auto)
        promptcheck run prompts/refunds.yaml --mode record
        promptcheck run --filter 'refunds/*' --tag smoke -j 16
        promptcheck run --shard 2/4 --json shard-2.json
      """
  )

  @Argument(help: "Suite files or folders (default: the tests dir).")
  var paths: [String] = []

  @Option(name: .row(\.mode), help: .row(\.mode))
  var mode: RunMode?

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Option(name: .row(\.filters), help: .row(\.filters))
  var filter: [String] = []

  @Option(name: .row(\.cases), help: .row(\.cases))
  var cases: [String] = []

  @Option(
    name: .customLong("provider"),
    help: ArgumentHelp(
      "Run every test with each of these providers (comma-separated): one case per target.", valueName: "A,B"))
  var providers: String?

  @Option(
    name: .customLong("model"),
    help: ArgumentHelp(
      "Run every test with each of these models (comma-separated): one case per target.", valueName: "X,Y"))
  var models: String?

  @Option(name: .row(\.tags), help: .row(\.tags))
  var tag: [String] = []

  @Option(name: [.short, .customLong(RunSettings.table.jobs.flag)], help: .row(\.jobs))
  var jobs: Int?

  @Option(name: .row(\.timeout), help: .row(\.timeout))
  var timeout: Double?

  @Option(name: .row(\.retries), help: .row(\.retries))
  var retries: Int?

  @Flag(name: .row(\.noAdapt), help: .row(\.noAdapt))
  var noAdapt = false

  @Option(name: .row(\.maxResponseBytes), help: .row(\.maxResponseBytes))
  var maxResponseBytes: Int?

  @Option(name: .row(\.stallTimeout), help: .row(\.stallTimeout))
  var stallTimeout: Double?

  @Option(name: .row(\.callDeadline), help: .row(\.callDeadline))
  var callDeadline: Double?

  @Flag(name: .row(\.updateGoldens), help: .row(\.updateGoldens))
  var updateGoldens = false

  @Flag(name: .row(\.liveTarget), help: .row(\.liveTarget))
  var liveTarget = false

  @Flag(name: .row(\.plan), help: .row(\.plan))
  var plan = false

  @OptionGroup var reports: ReportOptions

  @Option(name: .row(\.shard), help: .row(\.shard))
  var shard: Shard?

  @Flag(name: .row(\.rerunFailed), help: .row(\.rerunFailed))
  var rerunFailed = false

  @OptionGroup var gate: GateOptions

  @Option(name: .row(\.maxCost), help: .row(\.maxCost))
  var maxCost: Double?

  @Flag(name: .row(\.prune), help: .row(\.prune))
  var prune = false

  @Flag(name: .row(\.allowEmpty), help: .row(\.allowEmpty))
  var allowEmpty = false

  @Flag(name: .row(\.allowOnly), help: .row(\.allowOnly))
  var allowOnly = false

  @OptionGroup var output: OutputOptions

  /// The command line as the core takes it: only what was given.
  var invocation: RunInvocation {
    var i = RunInvocation()
    i.paths = paths
    i.configPath = config
    i.providers = providers.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    i.models = models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    var f = RunSettings()
    f.mode = mode
    f.filters = filter.isEmpty ? nil : filter
    f.cases = cases.isEmpty ? nil : cases
    f.tags = tag.isEmpty ? nil : tag
    f.jobs = jobs
    f.timeout = timeout
    f.retries = retries
    if noAdapt { f.noAdapt = true }
    f.maxResponseBytes = maxResponseBytes
    f.stallTimeout = stallTimeout
    f.callDeadline = callDeadline
    if updateGoldens { f.updateGoldens = true }
    if liveTarget { f.liveTarget = true }
    if plan { f.plan = true }
    f.shard = shard
    if rerunFailed { f.rerunFailed = true }
    f.maxCost = maxCost
    if prune { f.prune = true }
    if allowEmpty { f.allowEmpty = true }
    if allowOnly { f.allowOnly = true }
    reports.apply(to: &f)
    gate.apply(to: &f)
    output.apply(to: &f)
    i.flags = f
    return i
  }

  func run(in ctx: CommandContext) async -> ExitStatus {
    await RunCommandCore.run(invocation, ctx)
  }

  mutating func run() async throws {
    let invocation = invocation
    let context = CommandContext.process()
    let task = Task { await RunCommandCore.run(invocation, context) }
    // Ctrl-C, TERM (a CI runner cancelling the job) and HUP (the terminal gone) cancel the run
    // alike: in-flight requests stop, exec children are killed with their process groups, the
    // reports of what finished are written; the exit status is 128 + the signal's number.
    let received = Mutex<Int32?>(nil)
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM, SIGHUP] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
      source.setEventHandler {
        received.withLock { if $0 == nil { $0 = sig } }
        task.cancel()
      }
      source.resume()
      sources.append(source)
    }
    let status = await task.value
    sources.forEach { $0.cancel() }
    if let sig = received.withLock({ $0 }) { throw ExitCode(128 + sig) }
    if status != .ok { throw ExitCode(status.rawValue) }
  }
}
