/// The settings of `run` (and the ones `merge` shares), each declared once, as a row of
/// `RunSettings.table`: its config key (the flag is the key with `-` for `_`), how it is written,
/// its default and its help. The config loader, the editor schema, the range check of the flags,
/// the merge of layers and the resolve step all read the rows; the command line's help reads
/// them too. Adding a setting is one row here plus its use (and, for the flag, the stored
/// property swift-argument-parser needs, named and described by the row).
package struct SettingsTable: Sendable {
  package let mode = OptionalSetting<RunMode>(
    "mode", .choice(RunMode.allCases.map(\.rawValue)), help: "Cassette mode: replay, record, auto or live",
    default: "replay when CI is set, else auto"
  ) { RunMode(rawValue: $0) }
  package let filters = Setting<[String]>(
    "filter", .patterns, [], help: "Run only tests whose id contains PATTERN or matches it as a glob (repeatable)")
  package let cases = Setting<[String]>(
    "case", .patterns, [],
    help: "Run only the case with exactly this id (repeatable; a repeated test's id runs every repetition)",
    valueName: "ID")
  package let tags = Setting<[String]>("tag", .patterns, [], help: "Run only tests with this tag (repeatable)")
  package let jobs = Setting<Int>(
    "jobs", .integer(1...1024), 8, help: "Requests in flight at once, at most (each provider's window adapts below it)")
  package let timeout = Setting<Double>(
    "timeout", .seconds(0.001...86400.0), 120, help: "Per-request timeout in seconds")
  package let retries = Setting<Int>("retries", .integer(0...100), 3, help: "Retries of a retryable failure")
  package let noAdapt = Setting<Bool>(
    "no_adapt", .flag, false,
    help:
      "Keep --jobs requests in flight whatever the provider answers: no adaptive window or pacing, and a 429 spends a retry"
  )
  package let maxResponseBytes = Setting<Int>(
    "max_response_bytes", .integer(1024...(1 << 40)), CallLimits.standard.maxResponseBytes,
    help: "The largest answer taken, in decoded bytes", default: "33554432, 32 MiB")
  package let stallTimeout = Setting<Double>(
    "stall_timeout", .seconds(0.001...86400.0), CallLimits.standard.stallTimeout,
    help: "Seconds a streamed answer may go without a byte")
  package let callDeadline = Setting<Double>(
    "call_deadline", .seconds(0.001...604800.0), CallLimits.standard.callDeadline,
    help: "Seconds one call may take with all its retries and backoffs")
  package let updateGoldens = Setting<Bool>(
    "update_goldens", .flag, false, help: "Write goldens directly instead of .new files (refused when CI is set)")
  package let junit = Setting<String>(
    "junit", .path, ".promptcheck/junit.xml", help: "JUnit XML report", default: ".promptcheck/junit.xml")
  package let json = Setting<String>(
    "json", .path, ".promptcheck/report.json", help: "JSON report", default: ".promptcheck/report.json")
  package let html = OptionalSetting<String>("html", .path, help: "HTML report", default: "none") { $0 }
  package let shard = OptionalSetting<Shard>(
    "shard", .parsed(pattern: "^[0-9]+/[0-9]+$", expected: "K/N with 1 <= K <= N"),
    help: "Run only shard K of N (1 <= K <= N), by a stable hash of the case id", valueName: "K/N"
  ) { Shard(parsing: $0) }
  package let rerunFailed = Setting<Bool>(
    "rerun_failed", .flag, false, help: "Run only the cases that failed or errored in the last JSON report")
  package let minPassRate = Setting<Double>(
    "min_pass_rate", .fraction, 1,
    help: "Exit 0 if at least this fraction of the cases that ran passed (0..1); errored cases are never excused",
    default: "1")
  package let maxCost = OptionalSetting<Double>(
    "max_cost", .amount, help: "Stop sending live requests once the summed usage.cost reaches this many USD"
  ) { Double($0) }
  package let noColor = Setting<Bool>("no_color", .flag, false, help: "No colour")
  package let quiet = Setting<Bool>("quiet", .flag, false, help: "Only the summary", short: "q")
  package let verbose = Setting<Bool>("verbose", .flag, false, help: "Every case's details as it finishes")
  package let prune = Setting<Bool>(
    "prune", .flag, false, help: "Delete cassettes that no test uses (full, unfiltered runs only)")
  package let junitFileAttributes = Setting<Bool>(
    "junit_file_attributes", .flag, false,
    help: "Add file and line attributes to JUnit testcases (GitLab, GitHub reporters)")
  package let allowEmpty = Setting<Bool>(
    "allow_empty", .flag, false,
    help: "Exit 0 when no case matches the filters and tags (by default that is an error, exit 2)")
  package let liveTarget = Setting<Bool>(
    "live_target", .flag, false,
    help: "Replay an app target by running the app, its model calls answered from the cassettes")
  package let plan = Setting<Bool>(
    "plan", .flag, false,
    help: "Send nothing: list the cases --mode auto would record (missing or stale, and why) with their estimated cost")
  package let allowOnly = Setting<Bool>(
    "allow_only", .flag, false,
    help: "Let 'only: true' narrow the run when CI is set (by default that is an error, exit 2)")

  /// Every row, in the order of the config file's documentation.
  package var rows: [any SettingRow] {
    [
      mode, filters, cases, tags, jobs, timeout, retries, noAdapt, maxResponseBytes, stallTimeout, callDeadline,
      updateGoldens,
      junit, json, html, shard, rerunFailed, minPassRate, maxCost, noColor, quiet, verbose, prune, junitFileAttributes,
      allowEmpty, allowOnly, liveTarget, plan,
    ]
  }
}

/// How a setting is written in `promptcheck.yaml` (and in the schema), and its accepted range.
package enum SettingType: Sendable {
  /// true or false; on the command line a flag without a value.
  case flag
  case integer(ClosedRange<Int>)
  /// A positive number of seconds.
  case seconds(ClosedRange<Double>)
  /// A number from 0 to 1.
  case fraction
  /// A number, 0 or more.
  case amount
  /// A string (a path).
  case path
  /// A string or a list of strings.
  case patterns
  /// One of these words.
  case choice([String])
  /// A string the row parses; `expected` says what it must look like.
  case parsed(pattern: String, expected: String)

  /// The range a number must be in, if it is a number.
  package var numberRange: ClosedRange<Double>? {
    switch self {
    case .seconds(let r): r
    case .fraction: 0...1
    case .amount: 0...Double.greatestFiniteMagnitude
    default: nil
    }
  }
}

/// A config value read as its type says, before the row makes it the setting's value.
package enum SettingInput: Sendable {
  case bool(Bool), int(Int), number(Double), string(String), strings([String])
}

/// What every row tells the readers that go through the whole table.
package protocol SettingRow: Sendable {
  /// The config key; the flag is `--` + the key with `-` for `_`.
  var key: String { get }
  var type: SettingType { get }
  /// The flag's help without its default; the schema's description with it.
  var help: String { get }
  /// The default as the help says it, nil when the setting has none worth saying.
  var defaultText: String? { get }
  var valueName: String? { get }
  /// A one-letter short flag.
  var short: Character? { get }
  /// Sets this row in `layer` from a config value; nil, or what is wrong with `text`.
  func assign(_ input: SettingInput, to layer: inout RunSettings) -> String?
  /// Out of range in `layer` (a flag's value: the config's are checked with their locations).
  func rangeProblem(in layer: RunSettings) -> Diagnostic?
  func equal(_ a: RunSettings, _ b: RunSettings) -> Bool
}

extension SettingRow {
  package var flag: String { key.replacingOccurrences(of: "_", with: "-") }

  /// The help the command line shows (and the schema's description): the text, then the default.
  package var flagHelp: String { help + (defaultText.map { " (default \($0))." } ?? ".") }

  fileprivate func checkRange(_ value: (any Sendable)?) -> Diagnostic? {
    switch (type, value) {
    case (.integer(let r), let v as Int) where !r.contains(v):
      // A large power of two reads better as one.
      let big = r.upperBound >= 1 << 20 && r.upperBound.nonzeroBitCount == 1
      let upper = big ? "2^\(r.upperBound.trailingZeroBitCount)" : "\(r.upperBound)"
      return Diagnostic("--\(flag) must be from \(r.lowerBound) to \(upper), found \(v)", at: nil)
    case (.seconds(let r), let v as Double) where !r.contains(v):
      return Diagnostic(
        "--\(flag) must be a positive number of seconds (at most \(Int(r.upperBound))), found \(v)", at: nil)
    case (.fraction, let v as Double) where !(0...1).contains(v):
      return Diagnostic("--\(flag) must be between 0 and 1, found \(v)", at: nil)
    case (.amount, let v as Double) where !(v >= 0):
      return Diagnostic("--\(flag) must be 0 or more, found \(v)", at: nil)
    default: return nil
    }
  }
}

/// A setting with a default: resolved, it is always a value.
package struct Setting<Value: Sendable & Equatable>: SettingRow {
  package let key: String
  package let type: SettingType
  package let fallback: Value
  package let help: String
  package let defaultText: String?
  package let valueName: String?
  package let short: Character?

  /// `default` is how the help says the default; without it, the fallback as written (not for
  /// flags and lists, whose default is "off" and "all").
  init(
    _ key: String, _ type: SettingType, _ fallback: Value, help: String, default: String? = nil,
    valueName: String? = nil, short: Character? = nil
  ) {
    self.key = key
    self.type = type
    self.fallback = fallback
    self.help = help
    switch type {
    case .flag, .patterns, .path, .fraction: self.defaultText = `default`
    default:
      // 120.0 seconds is said "120".
      let whole = (fallback as? Double).flatMap { $0 == $0.rounded() ? Int(exactly: $0) : nil }
      self.defaultText = `default` ?? whole.map(String.init) ?? "\(fallback)"
    }
    self.valueName = valueName
    self.short = short
  }

  package func assign(_ input: SettingInput, to layer: inout RunSettings) -> String? {
    switch input {
    case .bool(let b as Value), .int(let b as Value), .number(let b as Value), .string(let b as Value),
      .strings(let b as Value):
      layer.values[key] = b
    default: return "\(key) has the wrong type"
    }
    return nil
  }

  package func rangeProblem(in layer: RunSettings) -> Diagnostic? { checkRange(layer.values[key]) }

  package func equal(_ a: RunSettings, _ b: RunSettings) -> Bool {
    a.values[key] as? Value == b.values[key] as? Value
  }
}

/// A setting without a default: resolved, it may be absent (`html`, `shard`, `max_cost`, `mode`).
package struct OptionalSetting<Value: Sendable & Equatable>: SettingRow {
  package let key: String
  package let type: SettingType
  package let help: String
  package let defaultText: String?
  package let valueName: String?
  package var short: Character? { nil }
  /// The value a config string (or number) stands for; nil when it stands for none.
  let parse: @Sendable (String) -> Value?

  init(
    _ key: String, _ type: SettingType, help: String, default: String? = nil, valueName: String? = nil,
    parse: @escaping @Sendable (String) -> Value?
  ) {
    self.key = key
    self.type = type
    self.help = help
    self.defaultText = `default`
    self.valueName = valueName
    self.parse = parse
  }

  package func assign(_ input: SettingInput, to layer: inout RunSettings) -> String? {
    switch input {
    case .number(let d as Value), .string(let d as Value): layer.values[key] = d
    case .string(let text):
      guard let v = parse(text) else {
        if case .parsed(_, let expected) = type { return "\(key) must be \(expected), found '\(text)'" }
        if case .choice(let words) = type {
          return "\(key) must be \(words.listedWithOr), found '\(text)'"
        }
        return "\(key) cannot be '\(text)'"
      }
      layer.values[key] = v
    default: return "\(key) has the wrong type"
    }
    return nil
  }

  package func rangeProblem(in layer: RunSettings) -> Diagnostic? { checkRange(layer.values[key]) }

  package func equal(_ a: RunSettings, _ b: RunSettings) -> Bool {
    a.values[key] as? Value == b.values[key] as? Value
  }
}

/// One layer of run settings: `promptcheck.yaml`'s run keys fill one, the command line another;
/// nil means "not given here". Read and written by row: `layer.jobs`, `layer.jobs = 4`.
@dynamicMemberLookup
package struct RunSettings: Sendable, Equatable {
  /// The rows every layer and reader shares.
  package static let table = SettingsTable()

  /// Given values by row key.
  fileprivate(set) var values: [String: any Sendable] = [:]

  package init() {}

  package subscript<V>(dynamicMember row: KeyPath<SettingsTable, Setting<V>>) -> V? {
    get { values[Self.table[keyPath: row].key] as? V }
    set { values[Self.table[keyPath: row].key] = newValue }
  }

  package subscript<V>(dynamicMember row: KeyPath<SettingsTable, OptionalSetting<V>>) -> V? {
    get { values[Self.table[keyPath: row].key] as? V }
    set { values[Self.table[keyPath: row].key] = newValue }
  }

  /// The row's value in this layer, else its default.
  package func value<V>(_ row: KeyPath<SettingsTable, Setting<V>>) -> V {
    self[dynamicMember: row] ?? Self.table[keyPath: row].fallback
  }

  /// The bounds of a live call this layer gives (defaults elsewhere).
  package var callLimits: CallLimits {
    CallLimits(
      maxResponseBytes: value(\.maxResponseBytes), stallTimeout: value(\.stallTimeout),
      callDeadline: value(\.callDeadline))
  }

  /// This layer with every setting that `top` gives replaced by `top`'s.
  package func overridden(by top: RunSettings) -> RunSettings {
    var out = self
    out.values.merge(top.values) { _, new in new }
    return out
  }

  /// Out-of-range values of this layer (the command line's: the config's were checked with their locations).
  package func rangeProblems() -> [Diagnostic] {
    Self.table.rows.compactMap { $0.rangeProblem(in: self) }
  }

  package static func == (a: RunSettings, b: RunSettings) -> Bool {
    table.rows.allSatisfy { $0.equal(a, b) }
  }
}

/// Every run setting with its value decided: `s.jobs` is the flag's, else the config's, else the
/// row's default; the settings decided from several things are stored.
@dynamicMemberLookup
package struct ResolvedRunSettings: Sendable {
  /// The layers, merged.
  package let given: RunSettings
  /// The mode asked for, and the one used (`auto` replays when CI is set).
  package var mode: RunMode
  package var effectiveMode: RunMode
  /// True when the mode was given (flag or config), not defaulted.
  package var modeWasGiven: Bool
  package var limits: CallLimits
  package var color: Bool

  package subscript<V>(dynamicMember row: KeyPath<SettingsTable, Setting<V>>) -> V {
    given[dynamicMember: row] ?? RunSettings.table[keyPath: row].fallback
  }

  package subscript<V>(dynamicMember row: KeyPath<SettingsTable, OptionalSetting<V>>) -> V? {
    given[dynamicMember: row]
  }

  /// A flag runs only part of the suites (then nobody knows which cassettes and goldens are unused).
  package var narrowsSelection: Bool {
    !self.filters.isEmpty || !self.cases.isEmpty || !self.tags.isEmpty || self.shard != nil || self.rerunFailed
  }

  package static let defaultJUnit = RunSettings.table.junit.fallback
  package static let defaultJSON = RunSettings.table.json.fallback

  /// Defaults ← `config` ← `flags`, checked. `isCI`, `noColorEnv` and `isTTY` come from the process.
  package static func resolve(flags: RunSettings, config: RunSettings, isCI: Bool, noColorEnv: Bool, isTTY: Bool)
    -> Result<ResolvedRunSettings, DiagnosticError>
  {
    var problems = flags.rangeProblems()
    let s = config.overridden(by: flags)
    let mode = s.mode ?? (isCI ? .replay : .auto)
    if (s.updateGoldens ?? false) && isCI {
      problems.append(
        Diagnostic(
          "--update-goldens is refused when CI is set: goldens change on a developer's machine, then are reviewed",
          at: nil))
    }
    if !problems.isEmpty { return .failure(DiagnosticError(problems)) }
    return .success(
      ResolvedRunSettings(
        given: s, mode: mode, effectiveMode: isCI && mode == .auto ? .replay : mode, modeWasGiven: s.mode != nil,
        limits: s.callLimits, color: isTTY && !(s.noColor ?? false) && !noColorEnv))
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
