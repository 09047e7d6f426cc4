import Foundation
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `promptcheck run` as the command line gives it.
package struct RunInvocation: Sendable {
  /// Suite files or folders (default: the tests dir).
  package var paths: [String] = []
  package var configPath: String?
  /// The flags; nil where not given (the config or the default decides).
  package var flags = RunSettings()
  /// `--provider a,b` / `--model x,y`: every test's targets, for this run.
  package var providers: [String]?
  package var models: [String]?
  package init() {}
}

/// The run pipeline: load → plan → execute → evaluate → report. Only wires the stages.
package enum RunCommandCore {
  package static func run(_ invocation: RunInvocation, _ ctx: CommandContext) async -> ExitStatus {
    MemoryTuning.tuneForARun(environment: ctx.environment)
    guard
      let project = ProjectLoader.loadOrReport(
        configPath: invocation.configPath, paths: invocation.paths, ctx,
        targets: (invocation.providers, invocation.models))
    else {
      return .invalid
    }
    let s: ResolvedRunSettings
    switch ResolvedRunSettings.resolve(
      flags: invocation.flags, config: project.config.run, isCI: ctx.isCI,
      noColorEnv: ctx.environment["NO_COLOR"].map { !$0.isEmpty } ?? false, isTTY: ctx.stdoutIsTTY)
    {
    case .failure(let e):
      ctx.report(e.diagnostics)
      return .invalid
    case .success(let v): s = v
    }

    // Every suite and every case: only then are unused cassettes and goldens known.
    let fullRun = project.isFullDiscovery && !s.narrowsSelection
    if ctx.report(Preflight.settings(s, fullRun: fullRun)) { return .invalid }

    // Plan.
    var plan = PlanOptions()
    plan.filters = s.filters
    plan.cases = s.cases
    plan.tags = s.tags
    plan.shard = s.shard
    if s.rerunFailed {
      switch PreviousReport.failedIDs(at: ctx.absolute(s.json)) {
      case .failure(let message):
        ctx.report(Diagnostic("--rerun-failed: \(message)", at: nil))
        return .invalid
      case .success(let ids): plan.onlyIDs = ids
      }
    }
    let planned = Planner.makePlan(project.suites, plan)
    let cases = planned.cases
    if planned.selectedCount == 0 && !s.allowEmpty && s.rerunFailed {
      ctx.out("nothing to rerun: \(s.json) has no failed or errored case\n")
      return .ok
    }
    if ctx.report(Preflight.plan(planned, s, isCI: ctx.isCI)) { return .invalid }

    // Execute and evaluate.
    let expectations = project.config.expectationsDir
    let root = ctx.project
    let cassettes = CassetteStore(root: expectations + "/cassettes", project: root)
    let goldens = GoldenStore(root: expectations + "/golden", project: root, update: s.updateGoldens)
    if s.plan { return refreshPlan(cases, cassettes: cassettes, project: project, s, ctx) }
    removeLeftovers(cases, cassettes: cassettes, goldens: goldens, reports: [s.junit, s.json, s.html], ctx)
    // A run that records under GitHub Actions shows what it set out to record in the step summary.
    var planMarkdown = ""
    if s.effectiveMode == .auto, GitHubOutput.hasStepSummary(ctx) {
      planMarkdown = refreshPlanOf(cases, cassettes: cassettes, project: project, ctx).markdown(maxCost: s.maxCost)
    }
    var client: ChatClient?
    // Every model call of the run (cases, judges, simulated users, app targets) shares one
    // governor: a window and a pace per provider, --jobs the ceiling (README "Calling the API").
    let governor = RateGovernor(ceiling: s.jobs, adaptive: !s.noAdapt)
    if s.effectiveMode != .replay {
      do {
        client = ChatClient(
          transport: try CurlTransport(), retry: RetryPolicy(retries: s.retries), timeout: s.timeout,
          environment: ctx.environment, retryEmpty: project.config.retryEmpty, limits: s.limits, governor: governor)
      } catch {
        ctx.report(Diagnostic("libcurl could not be initialised", at: nil))
        return .invalid
      }
    }
    // A target's `${VAR}` values are written back as `${VAR}`, like a base URL's.
    let targetSecrets = cases.lazy.compactMap(\.variant.appTarget).reduce(into: Set<String>()) {
      $0.formUnion($1.secretReferences)
    }
    let targetReferences = targetSecrets.sorted().compactMap { name in
      ctx.environment[name].map { (name: name, value: $0) }
    }
    let redactor = Redactor(
      providers: project.config.providers, environment: ctx.environment,
      references: project.config.urlReferences + targetReferences)
    let budget = CostBudget(limit: s.maxCost)
    var source = CassetteSource(
      store: cassettes, mode: s.effectiveMode, client: client, budget: budget, redactor: redactor)
    if s.effectiveMode == .replay || s.effectiveMode == .auto {
      source.prefetch = CassettePrefetch(cases: cases, store: cassettes)
    }
    defer { source.prefetch?.stop() }
    var runner = Runner(
      source: source, jobs: s.jobs, mode: s.effectiveMode, goldens: goldens, redactor: redactor,
      thinkTags: project.config.thinkTags)
    // The MCP servers looped cases name: started on first use, stopped when the run ends (a replay starts none).
    let mcp =
      s.effectiveMode == .replay || project.config.mcpServers.isEmpty
      ? nil : MCPHub(servers: project.config.mcpServers, directory: ctx.directory)
    defer { mcp?.stop() }
    runner.mcp = mcp
    // App targets: the loopback endpoint for their model calls, when an app runs (README "Testing your app").
    var proxy: AppProxy?
    if cases.contains(where: { $0.variant.appTarget != nil }) {
      let runsApps = s.effectiveMode != .replay || s.liveTarget
      if runsApps {
        do {
          proxy = try AppProxy()
        } catch {
          ctx.report(Diagnostic("the endpoint for the apps' model calls could not start: \(error)", at: nil))
          return .invalid
        }
      }
      runner.targets = TargetSource(
        store: cassettes, mode: s.effectiveMode, liveTarget: s.liveTarget, client: client,
        transport: runsApps ? try? CurlTransport() : nil, endpoint: proxy, redactor: redactor, budget: budget,
        environment: ctx.environment, directory: ctx.directory)
    }
    defer {
      runner.targets?.stop()
      proxy?.stop()
    }
    if ctx.isCI && s.mode == .auto && s.modeWasGiven && !s.quiet {
      ctx.err("note: CI is set, so --mode auto replays and records nothing\n")
    }
    let terminal = TerminalReporter(
      style: .init(
        isTTY: ctx.isSmartTerminal, color: s.color && ctx.isSmartTerminal, quiet: s.quiet, verbose: s.verbose,
        width: ctx.width), write: ctx.out)
    if !s.noAdapt {
      terminal.status = {
        let stats = governor.stats
        return stats.sent > 0 ? stats.progressText : nil
      }
    }
    // Report: each case goes to the reports as it is settled, in plan order, and is let go.
    let reports = ReportStream(
      ReportWriter(junit: s.junit, json: s.json, html: s.html, junitFileAttributes: s.junitFileAttributes),
      absolute: ctx.absolute)
    let summary = await runner.run(cases) { event in
      terminal.handle(event)
      reports.handle(event)
    }
    var head = summary.head
    head.plan = planned.fingerprint
    let tally = summary.tally
    if let line = tally.passRateLine(minPassRate: s.minPassRate) { ctx.out(line + "\n") }
    let stats = governor.stats
    if stats.sent > 0 {
      head.requests = stats
      ctx.out(stats.line + "\n")
    }
    if let limit = s.maxCost, s.effectiveMode != .replay {
      head.budget = BudgetReport(limit: limit, spent: budget.total, notSent: budget.notSent)
      ctx.out(
        "budget: spent $\(NumberText.money(budget.total)) of --max-cost $\(NumberText.money(limit))"
          + (budget.notSent > 0 ? "; \(counted(budget.notSent, "case")) not sent" : "") + "\n")
    }
    var status = tally.exitStatus(minPassRate: s.minPassRate)
    if !reports.finish(head, summary.totals, ctx) && status == .ok {
      // The run happened but its record is lost: an infrastructure problem, unless a case already failed.
      status = .errored
    }
    // The judges' agreement with people's labels (README "The local loop"): min_kappa gates.
    if LabelCommandsCore.gateFails(project: project, report: s.json, ctx) && status == .ok { status = .failed }
    if fullRun {
      Housekeeping.orphans(cases: cases, cassettes: cassettes, goldens: goldens, prune: s.prune, quiet: s.quiet, ctx)
    }
    GitHubOutput.publish(summary.totals, budget: head.budget, more: planMarkdown, ctx)
    return status
  }

  /// `--plan`: what `auto` would record and its estimated cost; sends nothing, writes only the
  /// plan's JSON (to the `--json` path when it is given).
  static func refreshPlan(
    _ cases: [PlannedCase], cassettes: CassetteStore, project: Project, _ s: ResolvedRunSettings,
    _ ctx: CommandContext
  ) -> ExitStatus {
    let plan = refreshPlanOf(cases, cassettes: cassettes, project: project, ctx)
    ctx.out(plan.text(maxCost: s.maxCost))
    if GitHubOutput.hasStepSummary(ctx), let path = ctx.environment["GITHUB_STEP_SUMMARY"],
      let problem = GitHubOutput.append(plan.markdown(maxCost: s.maxCost), to: path)
    {
      ctx.err("warning: cannot append the plan to $GITHUB_STEP_SUMMARY (\(path)): \(problem)\n")
    }
    if s.given.json != nil {
      do {
        try AtomicFile.write(
          plan.json(maxCost: s.maxCost).prettyPrinted(keys: .asWritten) + "\n", to: try ctx.writable(s.json))
      } catch {
        ctx.report(Diagnostic("the plan could not be written to \(s.json): \(error)", at: nil))
        return .errored
      }
    }
    return .ok
  }

  /// What `auto` would record of `cases`, from their cassettes alone.
  static func refreshPlanOf(_ cases: [PlannedCase], cassettes: CassetteStore, project: Project, _ ctx: CommandContext)
    -> RefreshPlan
  {
    let redactor = Redactor(
      providers: project.config.providers, environment: ctx.environment, references: project.config.urlReferences)
    let source = CassetteSource(
      store: cassettes, mode: .auto, client: nil, budget: CostBudget(limit: nil), redactor: redactor)
    return RefreshPlan.make(cases, source: source)
  }

  /// The temporary files a killed run (`kill -9`) left in the folders this run reads and writes:
  /// the cassette and golden folders of its suites and the reports' folders.
  static func removeLeftovers(
    _ cases: [PlannedCase], cassettes: CassetteStore, goldens: GoldenStore, reports: [String?], _ ctx: CommandContext
  ) {
    var folders: [String] = []
    var seen = Set<String>()
    for c in cases where seen.insert(c.suite).inserted {
      folders += [cassettes.absoluteRoot + "/" + c.suite, goldens.absoluteRoot + "/" + c.suite]
    }
    for r in reports.compactMap({ $0 }) { folders.append((ctx.absolute(r) as NSString).deletingLastPathComponent) }
    for f in Set(folders) { AtomicFile.removeLeftovers(in: f, within: ctx.project) }
  }
}
