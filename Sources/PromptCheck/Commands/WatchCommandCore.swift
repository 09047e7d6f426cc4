import Foundation
import PromptCheckCore
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport

/// `promptcheck watch` (README "The local loop"): runs the suites, then watches every file a run
/// reads and, on each save, re-runs only the cases whose request, assertions, cassette or
/// golden changed (or whose definition names the changed file: a mock's script), and says what
/// changed state. A YAML error or a failing case is shown and the watch goes on; Ctrl-C ends it.
package enum WatchCommandCore {
  package struct Options: Sendable {
    package var paths: [String] = []
    package var configPath: String?
    package var filters: [String] = []
    package var mode: RunMode = .replay
    package var maxCost: Double?
    /// Quiet time after a change before re-running, in seconds.
    package var debounce = 0.025
    package var forcePolling = false
    package init() {}
  }

  /// One round: what triggered it, the cases re-run, how it ended.
  package struct Cycle: Sendable {
    package var changedFiles: [String]
    package var ran: [String]
    package var status: ExitStatus?
    /// The files could not be loaded (the problems were printed).
    package var invalid: Bool
    package var seconds: Double
  }

  /// What a run's cases are and depend on: each case's digest, and its definition as text.
  struct Planned {
    var cases: [PlannedCase]
    var prints: [String: UInt64] = [:]
    var definitions: [String: String] = [:]
    var cassettes: CassetteStore
    var goldenRoot: String

    /// Each case's digest: its request (URL, headers without secrets, body), its definition
    /// (assertions, golden, mocks), its cassette's and goldens' sizes and times. A definition box
    /// that several cases share (the tests that take only the suite's defaults) is described once.
    /// `only`: the cases to digest again (after a run wrote their files); nil: every case.
    mutating func digest(only: Set<String>? = nil) {
      var described: [ObjectIdentifier: String] = [:]
      for c in cases where only?.contains(c.id) ?? true {
        let box = ObjectIdentifier(c.variant.box)
        if described[box] == nil { described[box] = WatchCommandCore.definition(c) }
        let definition = described[box, default: ""]
        var h = FNV1a()
        h.add(c.id.utf8)
        let request = c.request
        h.add(request.url.utf8)
        for header in request.publicHeaders { h.add("\n\(header.name): \(header.value)".utf8) }
        h.add(request.body.serialized().utf8)
        h.add(definition.utf8)
        h.add(WatchCommandCore.files(c, cassettes: cassettes, goldenRoot: goldenRoot).utf8)
        prints[c.id] = h.value
        definitions[c.id] = definition
      }
    }
  }

  /// The sizes and times of a case's cassette and goldens.
  static func files(_ c: PlannedCase, cassettes: CassetteStore, goldenRoot: String) -> String {
    var out = ""
    for path in [
      cassettes.absolutePath(c), goldenRoot + "/\(c.suite)/\(c.goldenStem).txt",
      goldenRoot + "/\(c.suite)/\(c.goldenStem).json",
    ] {
      var st = stat()
      if stat(path, &st) == 0 { out += "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec);" }
    }
    return out
  }

  /// Files whose content a load reads into the cases (suites, config, datasets, includes, goldens).
  static let readIn = [".yaml", ".yml", ".json", ".jsonl", ".csv", ".txt", ".md", ".new"]

  /// A case's definition as text, the same for the same definition in every load (its vars in order).
  static func definition(_ c: PlannedCase) -> String {
    var fields = c.variant.box.value
    let vars = fields.vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1}")
    fields.vars = [:]
    return vars + "\u{2}" + String(describing: fields)
  }

  /// The project's cases and their digests, or nil after printing why it does not load.
  static func plan(_ o: Options, _ ctx: CommandContext) -> Planned? {
    guard let project = ProjectLoader.loadOrReport(configPath: o.configPath, paths: o.paths, ctx) else { return nil }
    var options = PlanOptions()
    options.filters = o.filters
    let expectations = project.config.expectationsDir
    var planned = Planned(
      cases: Planner.makePlan(project.suites, options).cases,
      cassettes: CassetteStore(root: expectations + "/cassettes", project: ctx.project),
      goldenRoot: ctx.absolute(expectations + "/golden"))
    planned.digest()
    return planned
  }

  /// Runs `ids` (every case when nil) and merges their results into the report a full run wrote.
  static func run(_ ids: [String]?, _ o: Options, _ ctx: CommandContext) async -> ExitStatus {
    var i = RunInvocation()
    i.paths = o.paths
    i.configPath = o.configPath
    i.flags.mode = o.mode
    i.flags.maxCost = o.maxCost
    i.flags.quiet = true
    i.flags.allowEmpty = true
    let full = ".promptcheck/report.json"
    let partial = ".promptcheck/watch.json"
    if let ids {
      i.flags.cases = ids
      i.flags.json = partial
      i.flags.junit = ".promptcheck/watch-junit.xml"
    } else {
      i.flags.filters = o.filters.isEmpty ? nil : o.filters
    }
    // The full report before the round: what the cases were (to say which changed state), and
    // what the round's results go into.
    let previous = ids == nil ? nil : ReportFile.json(full, ctx)
    let captured = ctx.capturing()
    let status = await RunCommandCore.run(i, captured.ctx)
    let said = captured.text()
    let result = status == .invalid ? nil : ReportFile.json(ids == nil ? full : partial, ctx)
    ctx.out(lines(result, said: said, before: previous.map(statuses) ?? [:]))
    if let previous, let result, let merged = merged(result, into: previous), let target = try? ctx.writable(full) {
      try? AtomicFile.write(merged.prettyPrinted(keys: .asWritten) + "\n", to: target)
    }
    return status
  }

  /// Each case's status in a report, by id.
  static func statuses(_ report: JSON) -> [String: String] {
    var out: [String: String] = [:]
    for c in report["cases"]?.arrayValue ?? [] {
      if let id = c["id"]?.stringValue, let st = c["status"]?.stringValue { out[id] = st }
    }
    return out
  }

  /// The round's result, compact: each case run (with what it was, when that changed), then the
  /// counts; what the run said when it wrote no report.
  static func lines(_ report: JSON?, said: String, before: [String: String]) -> String {
    guard let report else { return said.isEmpty ? "" : said + "\n" }
    var out = ""
    for c in report["cases"]?.arrayValue ?? [] {
      let status = c["status"]?.stringValue ?? ""
      let id = c["id"]?.stringValue ?? ""
      let was = before[id].flatMap { $0 == status ? nil : " (was \($0))" } ?? ""
      guard status != "passed" && status != "skipped" else {
        out += "  \(status == "passed" ? "PASS " : "SKIP ") \(id)\(was)\n"
        continue
      }
      let why =
        c["error"]?.stringValue
        ?? c["assertions"]?.arrayValue?.first(where: { $0["passed"] == false })?["message"]?.stringValue ?? ""
      out += "  \(status == "failed" ? "FAIL " : "ERROR") \(id)\(was): \(why)\n"
    }
    let summary = said.split(separator: "\n").last { $0.contains(" passed, ") }.map(String.init) ?? ""
    return out + (summary.isEmpty ? "" : summary + "\n")
  }

  /// The full report with the re-run cases (same id) in place of their earlier results, its summary recounted.
  static func merged(_ partial: JSON, into full: JSON) -> JSON? {
    guard case .object(var root) = full, var cases = root["cases"]?.arrayValue else { return nil }
    var fresh: [String: JSON] = [:]
    for c in partial["cases"]?.arrayValue ?? [] { if let id = c["id"]?.stringValue { fresh[id] = c } }
    for (n, c) in cases.enumerated() { if let id = c["id"]?.stringValue, let new = fresh[id] { cases[n] = new } }
    root["cases"] = .array(cases)
    if case .object(var summary)? = root["summary"] {
      for key in ["passed", "failed", "errored", "skipped"] {
        summary[key] = .int(cases.count { $0["status"]?.stringValue == key })
      }
      root["summary"] = .object(summary)
    }
    return .object(root)
  }

  /// Watches until the task is cancelled (Ctrl-C): then 130. `onCycle` hears each round (tests).
  package static func watch(_ o: Options, _ ctx: CommandContext, onCycle: @Sendable (Cycle) -> Void = { _ in }) async
    -> ExitStatus
  {
    let watcher = FileWatcher(root: ctx.project.path, forcePolling: o.forcePolling)
    let clock = ContinuousClock()
    ctx.out(
      "watching \(ctx.project.path) (\(watcher.usesInotify ? "inotify" : "polling every 250 ms"), mode \(o.mode.rawValue)); Ctrl-C stops\n"
    )
    let start = clock.now
    // The cases as the last round that loaded left them, and whether the files load now.
    var last: Planned?
    var invalid = false
    if var planned = plan(o, ctx) {
      let status = await run(nil, o, ctx)
      // The run may have written any case's cassette or goldens.
      planned.digest()
      last = planned
      onCycle(
        Cycle(
          changedFiles: [], ran: planned.cases.map(\.id), status: status, invalid: false,
          seconds: seconds(clock.now - start)))
    } else {
      invalid = true
      onCycle(Cycle(changedFiles: [], ran: [], status: nil, invalid: true, seconds: 0))
    }
    // Changes come from the watcher's own thread: waiting for them holds no thread of the pool.
    for await batch in watcher.batches(debounce: o.debounce) {
      // promptcheck's own output, and editors' and atomic writers' hidden temporary files.
      let files = batch.filter { f in
        !f.hasPrefix(".promptcheck/") && !(f as NSString).lastPathComponent.hasPrefix(".")
          && !f.hasSuffix("~") && !f.hasSuffix(".swp")
      }.sorted()
      if files.isEmpty || Task.isCancelled { continue }
      let round = clock.now
      let wasInvalid = invalid
      invalid = false
      guard var now = plan(o, ctx) else {
        invalid = true
        ctx.out("(the files do not load: fix them and save again)\n")
        onCycle(Cycle(changedFiles: files, ran: [], status: nil, invalid: true, seconds: seconds(clock.now - round)))
        continue
      }
      // A case is re-run when its digest changed, it is new, or its definition names a changed
      // file that is not read into the definition itself (a mock's script, a judge's command).
      let names = files.filter { f in !Self.readIn.contains { f.hasSuffix($0) } }.map {
        ($0 as NSString).lastPathComponent
      }
      let affected = now.cases.filter { c in
        last?.prints[c.id] != now.prints[c.id]
          || names.contains { n in now.definitions[c.id, default: ""].contains(n) }
      }.map(\.id)
      var status: ExitStatus?
      if affected.isEmpty {
        last = now
        // Nothing to run (a file no case reads, or one the last run wrote): no round, unless the
        // files load again after an error.
        guard wasInvalid else { continue }
        ctx.out("the files load again\n")
      } else {
        ctx.out("\(files.joined(separator: ", ")) changed: \(counted(affected.count, "case")) to run\n")
        status = await run(affected, o, ctx)
        // The run may have written the affected cases' cassettes and goldens: only theirs are read again.
        now.digest(only: Set(affected))
        last = now
      }
      onCycle(
        Cycle(changedFiles: files, ran: affected, status: status, invalid: false, seconds: seconds(clock.now - round)))
    }
    return .cancelled
  }

  static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
  }
}
