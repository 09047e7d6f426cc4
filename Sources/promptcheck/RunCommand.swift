import ArgumentParser
import Foundation
import PromptCheck

struct RunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run suites: replay cassettes or call the API, check every assertion, write reports.",
    discussion: """
      Every option can also be set in promptcheck.yaml; the flag wins.
      Exit status: 0 every test passed, 1 an assertion or golden failed,
      3 nothing failed but a case could not run, 2 invalid invocation or files.

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
  var mode: String?

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Option(help: "Run only tests whose id contains PATTERN or matches it as a glob (repeatable).")
  var filter: [String] = []

  @Option(help: "Run only tests with this tag (repeatable).")
  var tag: [String] = []

  @Option(name: [.short, .customLong("jobs")], help: "Requests in flight at once (default 8).")
  var jobs: Int?

  @Option(help: "Per-request timeout in seconds (default 120).")
  var timeout: Double?

  @Option(help: "Retries of a retryable failure (default 3).")
  var retries: Int?

  @Flag(help: "Write goldens directly instead of .new files (refused when CI is set).")
  var updateGoldens = false

  @Option(help: "JUnit XML report (default .promptcheck/junit.xml).")
  var junit: String?

  @Option(help: "JSON report (default .promptcheck/report.json).")
  var json: String?

  @Option(help: "HTML report (default: none).")
  var html: String?

  @Option(help: "Run only shard K of N, by a stable hash of the case id.")
  var shard: String?

  @Flag(help: "Run only the cases that failed or errored in the last JSON report.")
  var rerunFailed = false

  @Option(help: "Exit 0 if at least this fraction of the cases passed (0..1, default 1).")
  var minPassRate: Double?

  @Option(help: "Stop sending live requests once the summed usage.cost reaches this many USD.")
  var maxCost: Double?

  @Flag(help: "Delete cassettes that no test uses (full, unfiltered runs only).")
  var prune = false

  @Flag(help: "Add file and line attributes to JUnit testcases (GitLab, GitHub reporters).")
  var junitFileAttributes = false

  @Flag(help: "No colour.")
  var noColor = false

  @Flag(help: "Only the summary.")
  var quiet = false

  @Flag(help: "Every case's details as it finishes.")
  var verbose = false

  func run() async throws {
    var o = RunOptions()
    o.paths = paths
    o.configPath = config
    o.mode = mode
    o.filters = filter
    o.tags = tag
    o.jobs = jobs
    o.timeout = timeout
    o.retries = retries
    o.updateGoldens = updateGoldens
    o.junit = junit
    o.json = json
    o.html = html
    o.shard = shard
    o.rerunFailed = rerunFailed
    o.minPassRate = minPassRate
    o.maxCost = maxCost
    o.prune = prune
    o.junitFileAttributes = junitFileAttributes
    o.noColor = noColor
    o.quiet = quiet
    o.verbose = verbose
    let context = CommandContext.process()
    let task = Task { await RunCommandCore.run(o, context) }
    // Ctrl-C cancels the run: in-flight requests stop, reports are still written.
    signal(SIGINT, SIG_IGN)
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
    interrupt.setEventHandler { task.cancel() }
    interrupt.resume()
    let status = await task.value
    interrupt.cancel()
    if status != 0 { throw ExitCode(task.isCancelled ? 130 : status) }
  }
}

extension CommandContext {
  /// The real process: its environment, folder, terminal, stdout and stderr.
  static func process() -> CommandContext {
    CommandContext(
      environment: ProcessInfo.processInfo.environment,
      directory: FileManager.default.currentDirectoryPath,
      stdoutIsTTY: isatty(STDOUT_FILENO) == 1,
      out: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
      err: { text in FileHandle.standardError.write(Data(text.utf8)) })
  }
}
