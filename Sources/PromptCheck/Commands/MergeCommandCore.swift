import Foundation

/// `promptcheck merge REPORT.json… [--junit F] [--json F] [--html F]`:
/// combines shard reports into the reports one unsharded run would have written
/// (cases back in plan order; timings are the shards').
public enum MergeCommandCore {
  public static func merge(_ reports: [(file: String, report: Report)]) -> Result<Report, PreviousReport.Failure> {
    var seen: [String: String] = [:]
    var cases: [ReportCase] = []
    for (file, report) in reports {
      for c in report.cases {
        if let other = seen[c.id] {
          return .failure(PreviousReport.Failure(message: "case \(c.id) is in both \(other) and \(file); merge reports of different shards"))
        }
        seen[c.id] = file
        cases.append(c)
      }
    }
    cases.sort { ($0.index, $0.id) < ($1.index, $1.id) }
    let started = reports.map(\.report.startedAt).min() ?? Date()
    let duration = reports.map(\.report.durationMS).max() ?? 0
    return .success(Report(startedAt: started, durationMS: duration, mode: reports.first?.report.mode ?? "replay", cases: cases))
  }

  public static func run(files: [String], junit: String?, json: String?, html: String?, ctx: CommandContext) -> Int32 {
    var parsed: [(String, Report)] = []
    for f in files {
      guard let data = FileManager.default.contents(atPath: ctx.absolute(f)) else {
        ctx.err("error: cannot read '\(f)'\n")
        return 2
      }
      switch JSONReport.parse(String(decoding: data, as: UTF8.self), file: f) {
      case .failure(let e):
        ctx.err("error: \(e.message)\n")
        return 2
      case .success(let r): parsed.append((f, r))
      }
    }
    let report: Report
    switch merge(parsed) {
    case .failure(let e):
      ctx.err("error: \(e.message)\n")
      return 2
    case .success(let r): report = r
    }
    var outputs: [(String, String)] = []
    let none = junit == nil && json == nil && html == nil
    if let path = junit ?? (none ? ".promptcheck/junit.xml" : nil) { outputs.append((path, JUnitReport.render(report))) }
    if let path = json ?? (none ? ".promptcheck/report.json" : nil) { outputs.append((path, JSONReport.render(report))) }
    if let path = html { outputs.append((path, HTMLReport.render(report))) }
    for (path, text) in outputs {
      do {
        try AtomicFile.write(text, to: ctx.absolute(path))
      } catch {
        ctx.err("error: \(error)\n")
        return 2
      }
    }
    ctx.out("merged \(files.count) report\(files.count == 1 ? "" : "s"): \(report.passed) passed, \(report.failed) failed, \(report.errored) errored, \(report.skipped) skipped\n")
    if report.failed > 0 { return 1 }
    if report.errored > 0 { return 3 }
    return 0
  }
}
