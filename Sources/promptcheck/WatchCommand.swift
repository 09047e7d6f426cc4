import ArgumentParser
import Foundation
import PromptCheck
import PromptCheckCore

struct WatchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watch",
    abstract: "Run the suites, then re-run what each save changes, until Ctrl-C.",
    discussion: """
      Watches the project's files (inotify; set PROMPTCHECK_WATCH_POLL=1 to poll) and, on
      each save, re-runs only the cases whose request, assertions, cassette or golden
      changed, or whose definition names the file saved (a mock's script). A YAML error
      or a failing case is shown and the watch goes on. --mode auto records what is
      missing or stale, under --max-cost. The report (.promptcheck/report.json) is
      kept up to date, so promptcheck view follows. Ctrl-C exits 130.

      Examples:
        promptcheck watch
        promptcheck watch refunds/ --mode auto --max-cost 0.05
      """
  )

  @Argument(help: "Run only tests whose id contains FILTER or matches it as a glob.")
  var filters: [String] = []

  @Option(help: "replay (default) or auto (record what is missing or stale).")
  var mode: RunMode = .replay

  @Option(help: "Stop sending live requests once the summed usage.cost reaches this many USD.")
  var maxCost: Double?

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  func run() async throws {
    guard mode == .replay || mode == .auto else { throw ValidationError("watch runs in replay or auto mode") }
    var o = WatchCommandCore.Options()
    o.filters = filters
    o.mode = mode
    o.maxCost = maxCost
    o.configPath = config
    let ctx = CommandContext.process()
    o.forcePolling = ctx.environment["PROMPTCHECK_WATCH_POLL"] == "1"
    let task = Task { await WatchCommandCore.watch(o, ctx) }
    // The watch runs until Ctrl-C, TERM or HUP cancels it.
    await untilStopped { task.cancel() }
    let status = await task.value
    throw ExitCode(status.rawValue)
  }
}
