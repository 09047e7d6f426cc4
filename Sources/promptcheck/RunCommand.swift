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

  @Option(help: "Cassette mode: replay, record, auto or live (default: replay when CI is set, else auto).")
  var mode: RunMode?

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Option(help: "Run only tests whose id contains PATTERN or matches it as a glob (repeatable).")
  var filter: [String] = []

  @Option(
    name: .customLong("case"),
    help: ArgumentHelp(
      "Run only the case with exactly this id (repeatable; a repeated test's id runs every repetition).",
      valueName: "ID"))
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

  @Option(help: "Run only tests with this tag (repeatable).")
  var tag: [String] = []

  @Option(name: [.short, .customLong("jobs")], help: "Requests in flight at once (default 8).")
  var jobs: Int?

  @Option(help: "Per-request timeout in seconds (default 120).")
  var timeout: Double?

  @Option(help: "Retries of a retryable failure (default 3).")
  var retries: Int?

  @Option(help: "The largest answer taken, in decoded bytes (default 33554432, 32 MiB).")
  var maxResponseBytes: Int?

  @Option(help: "Seconds a streamed answer may go without a byte (default 60).")
  var stallTimeout: Double?

  @Option(help: "Seconds one call may take with all its retries and backoffs (default 300).")
  var callDeadline: Double?

  @Flag(help: "Write goldens directly instead of .new files (refused when CI is set).")
  var updateGoldens = false

  @OptionGroup var reports: ReportOptions

  @Option(help: ArgumentHelp("Run only shard K of N (1 <= K <= N), by a stable hash of the case id.", valueName: "K/N"))
  var shard: Shard?

  @Flag(help: "Run only the cases that failed or errored in the last JSON report.")
  var rerunFailed = false

  @OptionGroup var gate: GateOptions

  @Option(help: "Stop sending live requests once the summed usage.cost reaches this many USD.")
  var maxCost: Double?

  @Flag(help: "Delete cassettes that no test uses (full, unfiltered runs only).")
  var prune = false

  @Flag(help: "Exit 0 when no case matches the filters and tags (by default that is an error, exit 2).")
  var allowEmpty = false

  @Flag(help: "Let 'only: true' narrow the run when CI is set (by default that is an error, exit 2).")
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
    f.maxResponseBytes = maxResponseBytes
    f.stallTimeout = stallTimeout
    f.callDeadline = callDeadline
    if updateGoldens { f.updateGoldens = true }
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
