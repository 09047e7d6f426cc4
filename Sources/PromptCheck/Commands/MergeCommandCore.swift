import Foundation

/// `promptcheck merge REPORT.json… [--junit F] [--json F] [--html F]`:
/// combines shard reports into the reports one unsharded run would have written
/// (cases back in plan order; timings are the shards').
package enum MergeCommandCore {
  package static func merge(_ reports: [(file: String, report: Report)]) -> Result<Report, PreviousReport.Failure> {
    var seen: [String: String] = [:]
    var cases: [ReportCase] = []
    for (file, report) in reports {
      for c in report.cases {
        if let other = seen[c.id] {
          return .failure(
            PreviousReport.Failure(
              message: "case \(c.id) is in both \(other) and \(file); merge reports of different shards"))
        }
        seen[c.id] = file
        cases.append(c)
      }
    }
    cases.sort { ($0.index, $0.id) < ($1.index, $1.id) }
    let started = reports.map(\.report.startedAt).min() ?? Date()
    let duration = reports.map(\.report.durationMS).max() ?? 0
    return .success(
      Report(startedAt: started, durationMS: duration, mode: reports.first?.report.mode ?? "replay", cases: cases))
  }

  package static func run(files: [String], flags: RunSettings, _ ctx: CommandContext) -> ExitStatus {
    if let problem = flags.rangeProblems().first {
      ctx.err(problem.description + "\n")
      return .invalid
    }
    var parsed: [(String, Report)] = []
    for f in files {
      let text: String
      switch InputFile.read(ctx.absolute(f), limit: InputFile.documentLimit) {
      case .failure(let problem):
        ctx.err("error: cannot read '\(f)': \(problem)\n")
        return .invalid
      case .success(let bytes): text = String(decoding: bytes, as: UTF8.self)
      }
      switch JSONReport.parse(text, file: f) {
      case .failure(let e):
        ctx.err("error: \(e.message)\n")
        return .invalid
      case .success(let r): parsed.append((f, r))
      }
    }
    let report: Report
    switch merge(parsed) {
    case .failure(let e):
      ctx.err("error: \(e.message)\n")
      return .invalid
    case .success(let r): report = r
    }
    let none = flags.junit == nil && flags.json == nil && flags.html == nil
    let writer = ReportWriter(
      junit: flags.junit ?? (none ? ResolvedRunSettings.defaultJUnit : nil),
      json: flags.json ?? (none ? ResolvedRunSettings.defaultJSON : nil), html: flags.html,
      junitFileAttributes: flags.junitFileAttributes ?? false)
    let tally = report.tally
    ctx.out(
      "merged \(counted(files.count, "report")): \(tally.passed) passed, \(tally.failed) failed, \(tally.errored) errored, \(tally.skipped) skipped\n"
    )
    let minPassRate = flags.minPassRate ?? 1
    if let line = tally.passRateLine(minPassRate: minPassRate) { ctx.out(line + "\n") }
    var status = tally.exitStatus(minPassRate: minPassRate)
    if !writer.write(report, ctx) && status == .ok { status = .errored }
    GitHubOutput.publish(report, ctx)
    return status
  }
}
