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

/// `accept` and `review`: what to do with pending goldens (`CASE.txt.new`).
package enum GoldenCommandsCore {
  /// The golden folder, from the config (no suite needs to be valid to accept
  /// goldens); nil, after printing the problems, when the config is invalid.
  static func goldenRoot(configPath: String?, ctx: CommandContext) -> (display: String, absolute: String)? {
    guard let config = ProjectLoader.loadConfigOrReport(configPath: configPath, ctx) else { return nil }
    let display = config.expectationsDir + "/golden"
    return (display, ctx.absolute(display))
  }

  /// `suite/case` of a pending file `suite/case.txt.new`.
  static func caseKey(_ pending: String) -> String {
    var k = String(pending.dropLast(4))
    for ext in [".txt", ".json"] where k.hasSuffix(ext) { k.removeLast(ext.count) }
    return k
  }

  /// Whether a filter selects a golden: its `SUITE/CASE` key contains or globs it, or the
  /// filter is the id of a case that compares with it (`suite/case#2`, `suite/case[name=Bob]`).
  static func selects(_ filters: [String], key: String, ids: [String]) -> Bool {
    filters.isEmpty || filters.contains { f in Planner.matches(key, f) || ids.contains(f) }
  }

  package static func accept(filters: [String], configPath: String?, ctx: CommandContext) -> ExitStatus {
    guard let root = goldenRoot(configPath: configPath, ctx: ctx) else { return .invalid }
    let ids = idsByGolden(configPath: configPath, ctx)
    let pending = GoldenFiles.pending(in: root.absolute).filter { p in
      selects(filters, key: caseKey(p), ids: ids[String(p.dropLast(4))] ?? [])
    }
    if pending.isEmpty {
      ctx.out(
        filters.isEmpty ? "no pending goldens\n" : "no pending goldens match \(filters.joined(separator: ", "))\n")
      return .ok
    }
    var status = ExitStatus.ok
    for p in pending {
      do {
        let from = try ctx.project.path(root.absolute + "/" + p)
        let to = try ctx.project.path(String(from.absolute.dropLast(4)))
        if let why = from.rename(to: to) {
          ctx.report(Diagnostic("cannot rename \(root.display)/\(p): \(why)", at: nil))
          status = .errored
        } else {
          ctx.out("accepted \(root.display)/\(p.dropLast(4))\n")
        }
      } catch {
        ctx.report(Diagnostic("\(error)", at: nil))
        status = .errored
      }
    }
    return status
  }

  /// Walks the pending goldens: shows each diff and asks accept / reject / skip.
  /// `readLine` is the terminal (or standard input); nil ends the review.
  package static func review(configPath: String?, color: Bool, ctx: CommandContext, readLine: () -> String?)
    -> ExitStatus
  {
    guard let root = goldenRoot(configPath: configPath, ctx: ctx) else { return .invalid }
    let pending = GoldenFiles.pending(in: root.absolute)
    if pending.isEmpty {
      ctx.out("no pending goldens\n")
      return .ok
    }
    let cases = casesByGolden(configPath: configPath, ctx)
    var accepted = 0
    var rejected = 0
    loop: for (n, p) in pending.enumerated() {
      let newPath = root.absolute + "/" + p
      let goldenPath = String(newPath.dropLast(4))
      let display = "\(root.display)/\(p.dropLast(4))"
      let new = FileManager.default.contents(atPath: newPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
      let old = FileManager.default.contents(atPath: goldenPath).map { String(decoding: $0, as: UTF8.self) }
      let relative = String(p.dropLast(4))
      if let c = cases[relative] {
        ctx.out("\n[\(n + 1)/\(pending.count)] \(c.groupID)\(old == nil ? " (new golden)" : "")  \(display)\n")
        ctx.out(context(of: c))
      } else {
        ctx.out("\n[\(n + 1)/\(pending.count)] \(display)\(old == nil ? " (new golden)" : "")\n")
      }
      let diff = UnifiedDiff.diff(old: old ?? "", new: new, oldName: display, newName: display + ".new")
      ctx.out(color ? TerminalReporter.colorized(diff) : diff)
      while true {
        ctx.out("accept, reject, skip or quit? [a/r/s/q] ")
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else {
          ctx.out("\n")
          break loop
        }
        switch answer {
        case "a", "accept":
          do {
            if let why = try ctx.project.path(newPath).rename(to: try ctx.project.path(goldenPath)) {
              ctx.report(Diagnostic("cannot rename \(display).new: \(why)", at: nil))
            } else {
              accepted += 1
              ctx.out("accepted \(display)\n")
            }
          } catch {
            ctx.report(Diagnostic("\(error)", at: nil))
          }
        case "r", "reject":
          do {
            try ctx.project.path(newPath).remove()
            rejected += 1
            ctx.out("rejected \(display) (deleted the .new file)\n")
          } catch {
            ctx.report(Diagnostic("\(error)", at: nil))
          }
        case "s", "skip", "":
          break
        case "q", "quit":
          break loop
        default:
          ctx.out("'\(answer)' is not an answer: a accepts, r rejects (deletes the .new file), s skips, q quits\n")
          continue
        }
        break
      }
    }
    let left = pending.count - accepted - rejected
    ctx.out("\naccepted \(accepted), rejected \(rejected), left \(left) pending\n")
    return .ok
  }

  /// The ids of the cases (and repeated tests) that compare with each golden, by its relative path.
  static func idsByGolden(configPath: String?, _ ctx: CommandContext) -> [String: [String]] {
    guard let project = ProjectLoader.load(configPath: configPath, paths: [], directory: ctx.directory).project else {
      return [:]
    }
    var out: [String: [String]] = [:]
    for c in Planner.plan(project.suites, PlanOptions()) {
      guard let spec = c.golden else { continue }
      out[GoldenStore.relativePath(c, spec: spec), default: []] += c.repeatIndex == nil ? [c.id] : [c.id, c.groupID]
    }
    return out
  }

  /// `accept --from REPORT`: writes the goldens a run left pending (a CI run's, from its
  /// downloaded report) from the texts the report holds, with the same filters.
  package static func accept(fromReport file: String, filters: [String], configPath: String?, ctx: CommandContext)
    -> ExitStatus
  {
    guard let root = goldenRoot(configPath: configPath, ctx: ctx) else { return .invalid }
    let report: Report
    switch InputFile.read(ctx.absolute(file), limit: 512 * 1024 * 1024) {
    case .failure(let p):
      ctx.report(Diagnostic("cannot read '\(file)': \(p)", at: nil))
      return .invalid
    case .success(let bytes):
      switch JSONReport.parse(String(decoding: bytes, as: UTF8.self), file: file) {
      case .failure(let e):
        ctx.report(Diagnostic("\(e.message)", at: nil))
        return .invalid
      case .success(let r): report = r
      }
    }
    var written = Set<String>()
    var status = ExitStatus.ok
    for c in report.cases {
      guard let text = c.pendingGolden, let path = c.golden.path, !written.contains(path) else { continue }
      var key = HTMLReport.acceptFilter(path)
      if key == path { key = c.id }
      let group = c.id.replacingOccurrences(of: #"#[0-9]+$"#, with: "", options: .regularExpression)
      guard selects(filters, key: key, ids: [c.id, group]) else { continue }
      do {
        let target = try goldenPath(path, in: root, ctx)
        try AtomicFile.write(text, to: target)
        target.appending(suffix: ".new").remove()
        written.insert(path)
        ctx.out("accepted \(path) (from \(file))\n")
      } catch {
        ctx.report(Diagnostic("\(error)", at: nil))
        status = .errored
      }
    }
    if written.isEmpty {
      ctx.out(
        filters.isEmpty
          ? "\(file) leaves no golden pending\n"
          : "no pending golden in \(file) matches \(filters.joined(separator: ", "))\n")
    }
    return status
  }

  /// A golden path a report names (it comes from elsewhere: a CI run's artifact, maybe a fork's):
  /// accepted only as a `.txt` or `.json` file under the golden folder, inside the project.
  static func goldenPath(_ path: String, in root: (display: String, absolute: String), _ ctx: CommandContext)
    throws(PathError) -> ProjectPath
  {
    let target = try ctx.writable(path)
    let folder = try ctx.project.path(root.absolute + "/x").folder
    guard target.absolute.hasPrefix(folder.absolute + "/"),
      target.absolute.hasSuffix(".txt") || target.absolute.hasSuffix(".json")
    else {
      throw PathError(path: path, reason: "the report names a file that is not a golden under \(root.display)/")
    }
    return target
  }

  /// The cases of the suites by their golden's relative path (nil map when the suites do not load:
  /// review still works on the files alone).
  static func casesByGolden(configPath: String?, _ ctx: CommandContext) -> [String: PlannedCase] {
    guard let project = ProjectLoader.load(configPath: configPath, paths: [], directory: ctx.directory).project else {
      return [:]
    }
    var out: [String: PlannedCase] = [:]
    for c in Planner.plan(project.suites, PlanOptions()) {
      guard let spec = c.golden else { continue }
      let key = GoldenStore.relativePath(c, spec: spec)
      if out[key] == nil { out[key] = c }
    }
    return out
  }

  /// What the reviewer needs beside the diff: where the test is, its prompt's first lines,
  /// what it asserts and what the golden compares.
  static func context(of c: PlannedCase) -> String {
    var out = "  \(c.suiteFile):\(c.location.line)\n"
    if let last = c.variant.messages.last(where: { $0["role"]?.stringValue == "user" }) ?? c.variant.messages.last {
      let text = last["content"]?.stringValue ?? last["content"]?.serialized() ?? ""
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      out += "  prompt: " + lines.prefix(3).joined(separator: "\n          ") + (lines.count > 3 ? " …" : "") + "\n"
    }
    if !c.variant.assertions.isEmpty {
      out += "  asserts: " + c.variant.assertions.map(\.fullKind).joined(separator: ", ") + "\n"
    }
    if let g = c.golden { out += "  golden: on \(g.subject.rawValue)\n" }
    return out
  }
}
