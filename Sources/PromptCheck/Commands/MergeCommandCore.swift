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

/// `promptcheck merge REPORT.json… [--junit F] [--json F] [--html F]`:
/// combines shard reports into the reports one unsharded run would have written
/// (cases back in plan order; timings are the shards').
package enum MergeCommandCore {
  /// Checks that the reports are the shards of one plan, each once, holding every planned case;
  /// the message names what is foreign, doubled or missing.
  package static func checkShards(_ reports: [(file: String, report: Report)]) -> String? {
    var plans: [(file: String, plan: PlanFingerprint)] = []
    for (file, report) in reports {
      guard let plan = report.plan else {
        return "\(file) records no plan (an older promptcheck wrote it, or not `run`); "
          + "re-run the shards, then merge"
      }
      plans.append((file, plan))
    }
    guard let first = plans.first else { return "no report to merge" }
    let count = first.plan.shard?.count ?? 1
    for (file, plan) in plans.dropFirst() {
      if plan.digest != first.plan.digest || plan.count != first.plan.count || (plan.shard?.count ?? 1) != count {
        return "\(file) is from another plan than \(first.file) (\(plan.count) planned cases, digest \(plan.digest), "
          + "not \(first.plan.count), \(first.plan.digest)): merge the shards of one run"
      }
    }
    var byIndex: [Int: [String]] = [:]
    for (file, plan) in plans { byIndex[plan.shard?.index ?? 1, default: []].append(file) }
    var problems: [String] = []
    for (k, files) in byIndex.sorted(by: { $0.key < $1.key }) where files.count > 1 {
      problems.append("shard \(k)/\(count) is given \(files.count) times (\(files.joined(separator: ", ")))")
    }
    let missing = (1...count).filter { byIndex[$0] == nil }
    if !missing.isEmpty {
      problems.append(
        "shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) "
          + "\(missing.count == 1 ? "is" : "are") missing")
    }
    if problems.isEmpty {
      let held = reports.reduce(0) { $0 + $1.report.cases.count }
      if held != first.plan.count {
        problems.append("the shards hold \(held) cases, the plan has \(first.plan.count)")
      }
    }
    return problems.isEmpty ? nil : problems.joined(separator: "; ")
  }

  package static func merge(_ reports: [(file: String, report: Report)]) -> Result<Report, PreviousReport.ReadError> {
    var seen: [String: String] = [:]
    var cases: [ReportCase] = []
    for (file, report) in reports {
      for c in report.cases {
        if let other = seen[c.id] {
          return .failure(
            PreviousReport.ReadError(
              message: "case \(c.id) is in both \(other) and \(file); merge reports of different shards"))
        }
        seen[c.id] = file
        cases.append(c)
      }
    }
    cases.sort { ($0.index, $0.id) < ($1.index, $1.id) }
    let started = reports.map(\.report.startedAt).min() ?? Date()
    let duration = reports.map(\.report.durationMS).max() ?? 0
    var merged = Report(
      startedAt: started, durationMS: duration, mode: reports.first?.report.mode ?? "replay", cases: cases)
    let order = Dictionary(cases.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    merged.groups = reports.flatMap(\.report.groups).sorted {
      (order[$0.id + "#1"] ?? Int.max, $0.id) < (order[$1.id + "#1"] ?? Int.max, $1.id)
    }
    merged.plan = reports.first?.report.plan.map { PlanFingerprint(shard: nil, count: $0.count, digest: $0.digest) }
    return .success(merged)
  }

  package static func run(files: [String], flags: RunSettings, _ ctx: CommandContext) -> ExitStatus {
    // The same resolution as run's (no config: merge reads none), for colour, quiet, verbose, rate.
    let s: ResolvedRunSettings
    switch ResolvedRunSettings.resolve(
      flags: flags, config: RunSettings(), isCI: ctx.isCI,
      noColorEnv: ctx.environment["NO_COLOR"].map { !$0.isEmpty } ?? false, isTTY: ctx.stdoutIsTTY)
    {
    case .failure(let e):
      ctx.report(e.diagnostics)
      return .invalid
    case .success(let v): s = v
    }
    var parsed: [(String, Report)] = []
    for f in files {
      let text: String
      switch InputFile.read(ctx.absolute(f), limit: InputFile.documentLimit) {
      case .failure(let problem):
        ctx.report(Diagnostic("cannot read '\(f)': \(problem)", at: nil))
        return .invalid
      case .success(let bytes): text = String(decoding: bytes, as: UTF8.self)
      }
      switch JSONReport.parse(text, file: f) {
      case .failure(let e):
        ctx.report(Diagnostic("\(e.message)", at: nil))
        return .invalid
      case .success(let r): parsed.append((f, r))
      }
    }
    if let problem = checkShards(parsed) {
      ctx.report(Diagnostic("\(problem)", at: nil))
      return .errored
    }
    let report: Report
    switch merge(parsed) {
    case .failure(let e):
      ctx.report(Diagnostic("\(e.message)", at: nil))
      return .invalid
    case .success(let r): report = r
    }
    let none = flags.junit == nil && flags.json == nil && flags.html == nil
    let writer = ReportWriter(
      junit: flags.junit ?? (none ? ResolvedRunSettings.defaultJUnit : nil),
      json: flags.json ?? (none ? ResolvedRunSettings.defaultJSON : nil), html: flags.html,
      junitFileAttributes: flags.junitFileAttributes ?? false)
    let totals = report.totals
    let tally = totals.tally
    let terminal = TerminalReporter(
      style: .init(isTTY: false, color: s.color && ctx.isSmartTerminal, quiet: s.quiet, verbose: s.verbose),
      write: ctx.out)
    ctx.out(terminal.problemsText(totals, report.head))
    ctx.out(
      "merged \(counted(files.count, "report")): \(tally.passed) passed, \(tally.failed) failed, \(tally.errored) errored, \(tally.skipped) skipped\n"
    )
    if let line = tally.passRateLine(minPassRate: s.minPassRate) { ctx.out(line + "\n") }
    var status = tally.exitStatus(minPassRate: s.minPassRate)
    if !writer.write(report, ctx) && status == .ok { status = .errored }
    GitHubOutput.publish(totals, budget: report.budget, ctx)
    return status
  }
}
