import Foundation

/// `promptcheck run` as the command line gives it; nil means "not given" (the config or the default decides).
public struct RunOptions: Sendable {
  public var paths: [String] = []
  public var configPath: String?
  public var mode: String?
  public var filters: [String] = []
  public var tags: [String] = []
  public var jobs: Int?
  public var timeout: Double?
  public var retries: Int?
  public var updateGoldens = false
  public var junit: String?
  public var json: String?
  public var html: String?
  public var shard: String?
  public var rerunFailed = false
  public var minPassRate: Double?
  public var maxCost: Double?
  public var noColor = false
  public var quiet = false
  public var verbose = false
  public var prune = false
  public var junitFileAttributes = false
  public init() {}
}

/// The run pipeline: load → plan → execute → evaluate → report.
public enum RunCommandCore {
  /// Settings after merging flags over the config over the defaults.
  struct Settings {
    var mode: RunMode
    var effectiveMode: RunMode
    var jobs: Int
    var timeout: Double
    var retries: Int
    var updateGoldens: Bool
    var junit: String
    var json: String
    var html: String?
    var shard: Shard?
    var rerunFailed: Bool
    var minPassRate: Double
    var maxCost: Double?
    var filters: [String]
    var tags: [String]
    var color: Bool
    var quiet: Bool
    var verbose: Bool
  }

  static func settings(_ o: RunOptions, _ config: Config, _ ctx: CommandContext) -> Result<Settings, DiagnosticError> {
    var problems: [Diagnostic] = []
    let c = config.run
    let modeText = o.mode ?? c.mode ?? (ctx.isCI ? "replay" : "auto")
    let mode = RunMode(rawValue: modeText) ?? {
      problems.append(Diagnostic("--mode must be replay, record, auto or live, found '\(modeText)'", at: nil))
      return .replay
    }()
    var effective = mode
    if ctx.isCI && mode == .auto { effective = .replay }
    let updateGoldens = o.updateGoldens || (c.updateGoldens ?? false)
    if updateGoldens && ctx.isCI {
      problems.append(Diagnostic("--update-goldens is refused when CI is set: goldens change on a developer's machine, then are reviewed", at: nil))
    }
    var shard: Shard?
    if let text = o.shard ?? c.shard {
      shard = Shard(parsing: text)
      if shard == nil { problems.append(Diagnostic("--shard must be K/N with 1 <= K <= N, found '\(text)'", at: nil)) }
    }
    let jobs = o.jobs ?? c.jobs ?? 8
    if jobs < 1 { problems.append(Diagnostic("--jobs must be at least 1, found \(jobs)", at: nil)) }
    let timeout = o.timeout ?? c.timeout ?? 120
    if !(timeout > 0) { problems.append(Diagnostic("--timeout must be a positive number of seconds", at: nil)) }
    let retries = o.retries ?? c.retries ?? 3
    if retries < 0 { problems.append(Diagnostic("--retries must be 0 or more, found \(retries)", at: nil)) }
    let rate = o.minPassRate ?? c.minPassRate ?? 1
    if !(0...1).contains(rate) { problems.append(Diagnostic("--min-pass-rate must be between 0 and 1, found \(rate)", at: nil)) }
    let maxCost = o.maxCost ?? c.maxCost
    if let m = maxCost, m < 0 { problems.append(Diagnostic("--max-cost must be 0 or more, found \(m)", at: nil)) }
    if !problems.isEmpty { return .failure(DiagnosticError(problems)) }
    let noColor = o.noColor || (c.noColor ?? false) || ctx.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
    return .success(
      Settings(
        mode: mode, effectiveMode: effective, jobs: jobs, timeout: timeout, retries: retries, updateGoldens: updateGoldens,
        junit: o.junit ?? c.junit ?? ".promptcheck/junit.xml", json: o.json ?? c.json ?? ".promptcheck/report.json",
        html: o.html ?? c.html, shard: shard, rerunFailed: o.rerunFailed || (c.rerunFailed ?? false), minPassRate: rate,
        maxCost: maxCost, filters: o.filters.isEmpty ? (c.filter ?? []) : o.filters, tags: o.tags.isEmpty ? (c.tag ?? []) : o.tags,
        color: ctx.stdoutIsTTY && !noColor, quiet: o.quiet || (c.quiet ?? false), verbose: o.verbose || (c.verbose ?? false)))
  }

  /// Runs and returns the exit status.
  public static func run(_ o: RunOptions, _ ctx: CommandContext) async -> Int32 {
    let loaded = ProjectLoader.load(configPath: o.configPath, paths: o.paths, directory: ctx.directory)
    guard let project = loaded.project else {
      ctx.err(ProjectLoader.render(loaded.diagnostics, sources: loaded.sources) + "\n")
      let n = loaded.diagnostics.count
      ctx.err("\(n) error\(n == 1 ? "" : "s") found; nothing was run.\n")
      return 2
    }
    let s: Settings
    switch settings(o, project.config, ctx) {
    case .failure(let e):
      for d in e.diagnostics { ctx.err(d.description + "\n") }
      return 2
    case .success(let v): s = v
    }

    var plan = PlanOptions()
    plan.filters = s.filters
    plan.tags = s.tags
    plan.shard = s.shard
    if s.rerunFailed {
      switch PreviousReport.failedIDs(at: ctx.absolute(s.json)) {
      case .failure(let message):
        ctx.err("error: --rerun-failed: \(message)\n")
        return 2
      case .success(let ids):
        plan.onlyIDs = ids
      }
    }
    let cases = Planner.plan(project.suites, plan)

    let expectations = project.config.expectationsDir
    let store = CassetteStore(root: expectations + "/cassettes", absoluteRoot: ctx.absolute(expectations + "/cassettes"))
    let goldens = GoldenStore(root: expectations + "/golden", absoluteRoot: ctx.absolute(expectations + "/golden"), update: s.updateGoldens)
    var client: ChatClient?
    if s.effectiveMode != .replay {
      do {
        client = ChatClient(
          transport: try CurlTransport(), retry: RetryPolicy(retries: s.retries), timeout: s.timeout,
          environment: ctx.environment)
      } catch {
        ctx.err("error: libcurl could not be initialised\n")
        return 2
      }
    }
    let redactor = Redactor(providers: project.config.providers, environment: ctx.environment)
    let source = CassetteSource(
      store: store, mode: s.effectiveMode, client: client, budget: CostBudget(limit: s.maxCost), redactor: redactor)
    let runner = Runner(source: source, jobs: s.jobs, mode: s.effectiveMode, goldens: goldens, redactor: redactor)

    if ctx.isCI && s.mode == .auto && !s.quiet && (o.mode ?? project.config.run.mode) != nil {
      ctx.err("note: CI is set, so --mode auto replays and records nothing\n")
    }
    let terminal = TerminalReporter(
      style: .init(isTTY: ctx.stdoutIsTTY, color: s.color, quiet: s.quiet, verbose: s.verbose), write: ctx.out)
    let summary = await runner.run(cases) { event in terminal.handle(event) }

    // Reports, each written atomically.
    var status = summary.exitCode(minPassRate: s.minPassRate)
    var junitOptions = JUnitReport.Options()
    junitOptions.fileAttributes = o.junitFileAttributes
    let report = Report(summary)
    var outputs: [(String, String)] = [(s.junit, JUnitReport.render(report, options: junitOptions)), (s.json, JSONReport.render(report))]
    if let html = s.html { outputs.append((html, HTMLReport.render(report))) }
    for (path, text) in outputs {
      do {
        try AtomicFile.write(text, to: ctx.absolute(path))
      } catch {
        // The run happened but its record is lost: an infrastructure problem (3), unless a case already failed (1).
        ctx.err("error: the report could not be written: \(error)\n")
        if status == 0 { status = 3 }
      }
    }

    // A full, unfiltered run lists what no test uses.
    let full = project.isFullDiscovery && s.filters.isEmpty && s.tags.isEmpty && s.shard == nil && !s.rerunFailed
    if full {
      let used = Set(cases.map { store.relativePath($0) })
      let unused = store.allFiles().filter { !used.contains($0) }
      if !unused.isEmpty {
        if o.prune {
          for f in unused { try? FileManager.default.removeItem(atPath: store.absoluteRoot + "/" + f) }
          ctx.out("pruned \(unused.count) unused cassette\(unused.count == 1 ? "" : "s"):\n" + unused.map { "  \(store.root)/\($0)\n" }.joined())
        } else if !s.quiet {
          ctx.out("\(unused.count) cassette\(unused.count == 1 ? "" : "s") no test uses (delete with --prune):\n" + unused.map { "  \(store.root)/\($0)\n" }.joined())
        }
      }
      let usedGoldens = Set(cases.compactMap { c in c.golden.map { GoldenStore.relativePath(c, spec: $0) } })
      let unusedGoldens = GoldenFiles.all(in: goldens.absoluteRoot).filter { !usedGoldens.contains($0) }
      if !unusedGoldens.isEmpty && !s.quiet {
        ctx.out("\(unusedGoldens.count) golden\(unusedGoldens.count == 1 ? "" : "s") no test uses:\n" + unusedGoldens.map { "  \(goldens.root)/\($0)\n" }.joined())
      }
    }
    if ctx.environment["GITHUB_ACTIONS"].map({ !$0.isEmpty }) ?? false {
      let annotations = GitHubOutput.annotations(report)
      if !annotations.isEmpty { ctx.out(annotations) }
      if let path = ctx.environment["GITHUB_STEP_SUMMARY"], !path.isEmpty,
        let problem = GitHubOutput.appendSummary(report, to: path)
      {
        ctx.err("warning: cannot append the summary to $GITHUB_STEP_SUMMARY (\(path)): \(problem)\n")
      }
    }
    return status
  }
}
