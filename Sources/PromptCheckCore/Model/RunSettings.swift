/// The settings of `run` (and the ones `merge` shares), as one layer: `promptcheck.yaml`'s
/// run keys fill one, the command line another; nil means "not given here". The one place
/// each setting is declared; `resolve` layers defaults ← config ← flags into typed values.
package struct RunSettings: Sendable, Equatable {
  package var mode: RunMode?
  package var filters: [String]?
  /// `--case ID`: exact case ids (or a repeated test's id without `#N`, for all its repetitions).
  package var cases: [String]?
  package var tags: [String]?
  package var jobs: Int?
  package var timeout: Double?
  package var retries: Int?
  /// `max_response_bytes`, `stall_timeout`, `call_deadline`: the bounds of a live call
  /// (README "Limits and safety").
  package var maxResponseBytes: Int?
  package var stallTimeout: Double?
  package var callDeadline: Double?
  package var updateGoldens: Bool?
  package var junit: String?
  package var json: String?
  package var html: String?
  package var shard: Shard?
  package var rerunFailed: Bool?
  package var minPassRate: Double?
  package var maxCost: Double?
  package var noColor: Bool?
  package var quiet: Bool?
  package var verbose: Bool?
  package var prune: Bool?
  package var junitFileAttributes: Bool?
  package var allowEmpty: Bool?
  package var allowOnly: Bool?

  package init() {}

  /// The accepted ranges, shared by the config loader (with locations) and the flags.
  package enum Limits {
    package static let jobs = 1...1024
    package static let timeout = 0.001...86400.0
    package static let retries = 0...100
    package static let maxResponseBytes = 1024...(1 << 40)
    package static let stallTimeout = 0.001...86400.0
    package static let callDeadline = 0.001...604800.0
    package static let minPassRate = 0.0...1.0
    package static let maxCost = 0.0...Double.greatestFiniteMagnitude
  }

  /// This layer with every setting that `top` gives replaced by `top`'s.
  package func overridden(by top: RunSettings) -> RunSettings {
    RunSettings(
      mode: top.mode ?? mode, filters: top.filters ?? filters, cases: top.cases ?? cases, tags: top.tags ?? tags,
      jobs: top.jobs ?? jobs,
      timeout: top.timeout ?? timeout, retries: top.retries ?? retries,
      maxResponseBytes: top.maxResponseBytes ?? maxResponseBytes, stallTimeout: top.stallTimeout ?? stallTimeout,
      callDeadline: top.callDeadline ?? callDeadline,
      updateGoldens: top.updateGoldens ?? updateGoldens,
      junit: top.junit ?? junit, json: top.json ?? json, html: top.html ?? html, shard: top.shard ?? shard,
      rerunFailed: top.rerunFailed ?? rerunFailed, minPassRate: top.minPassRate ?? minPassRate,
      maxCost: top.maxCost ?? maxCost, noColor: top.noColor ?? noColor, quiet: top.quiet ?? quiet,
      verbose: top.verbose ?? verbose, prune: top.prune ?? prune,
      junitFileAttributes: top.junitFileAttributes ?? junitFileAttributes, allowEmpty: top.allowEmpty ?? allowEmpty,
      allowOnly: top.allowOnly ?? allowOnly)
  }

  init(
    mode: RunMode?, filters: [String]?, cases: [String]?, tags: [String]?, jobs: Int?, timeout: Double?, retries: Int?,
    maxResponseBytes: Int?, stallTimeout: Double?, callDeadline: Double?, updateGoldens: Bool?,
    junit: String?, json: String?, html: String?, shard: Shard?, rerunFailed: Bool?, minPassRate: Double?,
    maxCost: Double?,
    noColor: Bool?, quiet: Bool?, verbose: Bool?, prune: Bool?, junitFileAttributes: Bool?, allowEmpty: Bool?,
    allowOnly: Bool?
  ) {
    self.mode = mode
    self.filters = filters
    self.cases = cases
    self.tags = tags
    self.jobs = jobs
    self.timeout = timeout
    self.retries = retries
    self.maxResponseBytes = maxResponseBytes
    self.stallTimeout = stallTimeout
    self.callDeadline = callDeadline
    self.updateGoldens = updateGoldens
    self.junit = junit
    self.json = json
    self.html = html
    self.shard = shard
    self.rerunFailed = rerunFailed
    self.minPassRate = minPassRate
    self.maxCost = maxCost
    self.noColor = noColor
    self.quiet = quiet
    self.verbose = verbose
    self.prune = prune
    self.junitFileAttributes = junitFileAttributes
    self.allowEmpty = allowEmpty
    self.allowOnly = allowOnly
  }

  /// Out-of-range values of this layer (the command line's: the config's were checked with their locations).
  package func rangeProblems() -> [Diagnostic] {
    var problems: [Diagnostic] = []
    func check<T: Comparable & CustomStringConvertible>(_ v: T?, _ range: ClosedRange<T>, _ what: String) {
      if let v, !range.contains(v) { problems.append(Diagnostic("\(what), found \(v)", at: nil)) }
    }
    check(jobs, Limits.jobs, "--jobs must be from 1 to 1024")
    check(timeout, Limits.timeout, "--timeout must be a positive number of seconds (at most 86400)")
    check(retries, Limits.retries, "--retries must be from 0 to 100")
    check(maxResponseBytes, Limits.maxResponseBytes, "--max-response-bytes must be from 1024 to 2^40")
    check(stallTimeout, Limits.stallTimeout, "--stall-timeout must be a positive number of seconds (at most 86400)")
    check(callDeadline, Limits.callDeadline, "--call-deadline must be a positive number of seconds (at most 604800)")
    check(minPassRate, Limits.minPassRate, "--min-pass-rate must be between 0 and 1")
    check(maxCost, Limits.maxCost, "--max-cost must be 0 or more")
    return problems
  }
}

/// Every run setting with its value decided.
package struct ResolvedRunSettings: Sendable {
  /// The mode asked for, and the one used (`auto` replays when CI is set).
  package var mode: RunMode
  package var effectiveMode: RunMode
  /// True when the mode was given (flag or config), not defaulted.
  package var modeWasGiven: Bool
  package var filters: [String]
  package var cases: [String]
  package var tags: [String]
  package var jobs: Int
  package var timeout: Double
  package var retries: Int
  package var limits: CallLimits
  package var updateGoldens: Bool
  package var junit: String
  package var json: String
  package var html: String?
  package var shard: Shard?
  package var rerunFailed: Bool
  package var minPassRate: Double
  package var maxCost: Double?
  package var color: Bool
  package var quiet: Bool
  package var verbose: Bool
  package var prune: Bool
  package var junitFileAttributes: Bool
  package var allowEmpty: Bool
  package var allowOnly: Bool

  /// A flag runs only part of the suites (then nobody knows which cassettes and goldens are unused).
  package var narrowsSelection: Bool {
    !filters.isEmpty || !cases.isEmpty || !tags.isEmpty || shard != nil || rerunFailed
  }

  package static let defaultJUnit = ".promptcheck/junit.xml"
  package static let defaultJSON = ".promptcheck/report.json"

  /// Defaults ← `config` ← `flags`, checked. `isCI`, `noColorEnv` and `isTTY` come from the process.
  package static func resolve(flags: RunSettings, config: RunSettings, isCI: Bool, noColorEnv: Bool, isTTY: Bool)
    -> Result<ResolvedRunSettings, DiagnosticError>
  {
    var problems = flags.rangeProblems()
    let s = config.overridden(by: flags)
    let mode = s.mode ?? (isCI ? .replay : .auto)
    let updateGoldens = s.updateGoldens ?? false
    if updateGoldens && isCI {
      problems.append(
        Diagnostic(
          "--update-goldens is refused when CI is set: goldens change on a developer's machine, then are reviewed",
          at: nil))
    }
    if !problems.isEmpty { return .failure(DiagnosticError(problems)) }
    return .success(
      ResolvedRunSettings(
        mode: mode, effectiveMode: isCI && mode == .auto ? .replay : mode, modeWasGiven: s.mode != nil,
        filters: s.filters ?? [], cases: s.cases ?? [], tags: s.tags ?? [], jobs: s.jobs ?? 8,
        timeout: s.timeout ?? 120,
        retries: s.retries ?? 3,
        limits: CallLimits(
          maxResponseBytes: s.maxResponseBytes ?? CallLimits.standard.maxResponseBytes,
          stallTimeout: s.stallTimeout ?? CallLimits.standard.stallTimeout,
          callDeadline: s.callDeadline ?? CallLimits.standard.callDeadline),
        updateGoldens: updateGoldens, junit: s.junit ?? defaultJUnit, json: s.json ?? defaultJSON, html: s.html,
        shard: s.shard, rerunFailed: s.rerunFailed ?? false, minPassRate: s.minPassRate ?? 1, maxCost: s.maxCost,
        color: isTTY && !(s.noColor ?? false) && !noColorEnv, quiet: s.quiet ?? false, verbose: s.verbose ?? false,
        prune: s.prune ?? false, junitFileAttributes: s.junitFileAttributes ?? false, allowEmpty: s.allowEmpty ?? false,
        allowOnly: s.allowOnly ?? false))
  }
}

/// How much one live call may take (README "Limits and safety"): the answer's size, the quiet a
/// stream may keep, and the time of the call with all its retries and backoffs.
package struct CallLimits: Sendable, Equatable {
  /// Decoded bytes of one answer.
  package var maxResponseBytes: Int
  /// Seconds a streamed answer may go without a byte.
  package var stallTimeout: Double
  /// Seconds one call may take from its first attempt to its last, backoffs included.
  package var callDeadline: Double

  package init(maxResponseBytes: Int, stallTimeout: Double, callDeadline: Double) {
    self.maxResponseBytes = maxResponseBytes
    self.stallTimeout = stallTimeout
    self.callDeadline = callDeadline
  }

  /// 32 MiB, 60 s, 300 s.
  package static let standard = CallLimits(maxResponseBytes: 32 << 20, stallTimeout: 60, callDeadline: 300)
}
