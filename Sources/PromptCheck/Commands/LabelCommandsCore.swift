import Foundation
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckLoad
import PromptCheckReport

/// `label` and `calibrate` (README "The local loop"): people's verdicts kept beside the
/// cassettes, and how well the recorded judges agree with them.
package enum LabelCommandsCore {
  package struct LabelOptions: Sendable {
    package var caseID = ""
    package var verdict = Label.Verdict.pass
    package var assertion: Int?
    package var note: String?
    package var report = ".promptcheck/report.json"
    package var configPath: String?
    package init() {}
  }

  /// The label store of a project's config.
  static func store(_ config: Config, _ ctx: CommandContext) -> LabelStore {
    LabelStore(root: config.expectationsDir + "/labels", project: ctx.project)
  }

  /// A report's case by id, or the problem (no report, no such case).
  static func reportCase(_ id: String, report path: String, _ ctx: CommandContext) -> Result<JSON, Diagnostic> {
    guard let data = FileManager.default.contents(atPath: ctx.absolute(path)) else {
      return .failure(
        Diagnostic("\(path) is missing: run the suite first (promptcheck run), then label its answers", at: nil))
    }
    guard let report = try? JSON.parse(bytes: Array(data)) else {
      return .failure(Diagnostic("\(path) is not a JSON report", at: nil))
    }
    guard let c = report["cases"]?.arrayValue?.first(where: { $0["id"]?.stringValue == id }) else {
      let ids = report["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
      var message = "\(path) has no case '\(id)'"
      if let guess = closestMatch(to: id, in: ids) { message += "; did you mean '\(guess)'?" }
      return .failure(Diagnostic(message, at: nil))
    }
    return .success(c)
  }

  /// Who labels: `git config user.name`, else `$USER`.
  static func person(_ ctx: CommandContext) -> String? {
    if case .success(let out) = Git.run(["config", "user.name"], in: ctx.directory) {
      let name = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      if !name.isEmpty { return name }
    }
    return ctx.environment["USER"]
  }

  /// Labels a case of the last report (or one of its judged assertions) and writes the label file.
  package static func label(_ o: LabelOptions, by who: String? = nil, _ ctx: CommandContext) -> ExitStatus {
    guard let config = ProjectLoader.loadConfigOrReport(configPath: o.configPath, ctx) else { return .invalid }
    let c: JSON
    switch reportCase(o.caseID, report: o.report, ctx) {
    case .failure(let d):
      ctx.report(d)
      return .invalid
    case .success(let found): c = found
    }
    if let n = o.assertion {
      let count = c["assertions"]?.arrayValue?.count ?? 0
      let indexes = Set(
        (c["assertions"]?.arrayValue ?? []).compactMap {
          $0["message"]?.stringValue.flatMap(Calibration.assertionIndex)
        })
      guard indexes.contains(n) else {
        ctx.report(
          Diagnostic(
            "case '\(o.caseID)' has no assert[\(n)] in \(o.report) (its \(count) assertion\(count == 1 ? "" : "s"): "
              + "\(indexes.sorted().map { "assert[\($0)]" }.joined(separator: ", ")))", at: nil))
        return .invalid
      }
    }
    let suite = c["suite"]?.stringValue ?? String(o.caseID.prefix { $0 != "/" })
    let label = Label(
      caseID: o.caseID, assertion: o.assertion, verdict: o.verdict, note: o.note, by: who ?? person(ctx),
      answer: Label.answerHash(c["output"]?.stringValue ?? ""),
      at: UTCTime.formatter(UTCTime.seconds).string(from: Date()))
    do {
      let file = try store(config, ctx).save(label, suite: suite)
      ctx.out("labelled \(label.key) \(label.verdict.rawValue) in \(file)\n")
      return .ok
    } catch {
      ctx.report(Diagnostic(error.message, at: nil))
      return .errored
    }
  }

  package struct CalibrateOptions: Sendable {
    package var filters: [String] = []
    package var report = ".promptcheck/report.json"
    package var json: String?
    package var markdown: String?
    package var configPath: String?
    package init() {}
  }

  /// The calibration of every judged assertion with labels, from a report's recorded verdicts.
  package static func calibrate(_ o: CalibrateOptions, _ ctx: CommandContext) -> ExitStatus {
    guard let project = ProjectLoader.loadOrReport(configPath: o.configPath, paths: [], ctx) else { return .invalid }
    guard let report = ReportFile.json(o.report, ctx) else {
      ctx.report(
        Diagnostic(
          "\(o.report) is missing or not a JSON report: run the suite first (a replay: no model call)", at: nil))
      return .invalid
    }
    let (labels, problems) = store(project.config, ctx).loadAll()
    if ctx.report(problems) { return .invalid }
    let results = Calibration.measure(
      report: report, labels: labels, gates: gates(project), filters: o.filters)
    ctx.out(Calibration.table(results))
    do {
      if let j = o.json {
        try AtomicFile.write(Calibration.json(results).prettyPrinted(keys: .asWritten) + "\n", to: ctx.writable(j))
      }
      if let m = o.markdown { try AtomicFile.write(Calibration.markdown(results), to: ctx.writable(m)) }
    } catch {
      ctx.report(Diagnostic("\(error)", at: nil))
      return .errored
    }
    return results.contains { $0.gateFailure != nil } ? .failed : .ok
  }

  /// The declared gates by "file:line": a judged assertion's own `min_kappa`, else the config's.
  package static func gates(_ project: Project) -> [String: CalibrationGate] {
    var out: [String: CalibrationGate] = [:]
    func visit(_ a: Assertion) {
      let own: CalibrationGate?
      switch a.check {
      case .llmRubric(let r): own = r.calibration
      case .similar(let s): own = s.calibration
      case .exec: own = nil
      case .anyOf(let members):
        members.forEach(visit)
        return
      default: return
      }
      if let g = own ?? project.config.calibration { out["\(a.location.file):\(a.location.line)"] = g }
    }
    for suite in project.suites {
      for test in suite.tests {
        for variant in test.variants {
          variant.assertions.forEach(visit)
          for turn in variant.conversation?.turns ?? [] { turn.assertions.forEach(visit) }
        }
      }
    }
    return out
  }

  /// After a run: the gates the run's recorded verdicts fail, said in the terminal; true when one fails.
  package static func gateFails(project: Project, report path: String, _ ctx: CommandContext) -> Bool {
    let gates = gates(project)
    guard !gates.isEmpty, let report = ReportFile.json(path, ctx) else { return false }
    let (labels, problems) = store(project.config, ctx).loadAll()
    ctx.report(problems)
    var failed = !problems.isEmpty
    for r in Calibration.measure(report: report, labels: labels, gates: gates) {
      guard let g = r.gate else { continue }
      if let problem = r.gateFailure {
        ctx.out("calibration: \(r.file):\(r.line) \(r.kind) FAILS: \(problem) (\(r.figures))\n")
        failed = true
      } else {
        ctx.out("calibration: \(r.file):\(r.line) \(r.kind) holds min_kappa \(g.minKappa) (\(r.figures))\n")
      }
    }
    return failed
  }
}
