import Foundation
import PromptCheckCore

/// GitHub Actions output: `::error` annotations on the tests' lines and a
/// Markdown summary for `$GITHUB_STEP_SUMMARY`.
package enum GitHubOutput {
  /// One `::error file=…,line=…::` line per failed or errored case.
  package static func annotations(_ totals: ReportTotals) -> String {
    var out = ""
    for r in totals.problems {
      let message =
        r.status == .failed ? r.failedAssertions.map(\.message).joined(separator: "\n") : (r.error ?? "could not run")
      out +=
        "::error file=\(property(r.file)),line=\(r.line),title=\(property("promptcheck: \(r.id)"))::\(data(message))\n"
    }
    return out
  }

  /// The Markdown summary: counts, then each failed case with its first message.
  package static func markdown(_ totals: ReportTotals, budget: BudgetReport?) -> String {
    let tally = totals.tally
    var md = "## promptcheck\n\n| passed | failed | errored | skipped |\n|---:|---:|---:|---:|\n"
    md += "| \(tally.passed) | \(tally.failed) | \(tally.errored) | \(tally.skipped) |\n"
    let usage = totals.usage
    if usage.cases > 0 { md += "\n" + MarkdownText.escape(usage.line) + "\n" }
    if let b = budget {
      md += "\nbudget: spent $\(NumberText.money(b.spent)) of $\(NumberText.money(b.limit))"
      md += b.notSent > 0 ? ", \(counted(b.notSent, "case")) not sent\n" : "\n"
    }
    if !totals.problems.isEmpty {
      md += "\n### Failed and errored cases\n\n"
      for r in totals.problems {
        let first = r.status == .failed ? r.failedAssertions.first?.message ?? "" : r.error ?? ""
        let line = first.split(separator: "\n").first.map(String.init) ?? ""
        md += "- **\(r.status.rawValue)** `\(r.id)` (\(r.file):\(r.line)): \(MarkdownText.escape(line))\n"
      }
    }
    return md + "\n"
  }

  /// Under GitHub Actions: the annotations on standard output and the summary appended to the step summary.
  /// `more`: Markdown to add to the step summary (a refresh plan).
  package static func publish(_ totals: ReportTotals, budget: BudgetReport?, more: String = "", _ ctx: CommandContext) {
    guard ctx.environment["GITHUB_ACTIONS"].map({ !$0.isEmpty }) ?? false else { return }
    let annotations = annotations(totals)
    if !annotations.isEmpty { ctx.out(annotations) }
    if let path = ctx.environment["GITHUB_STEP_SUMMARY"], !path.isEmpty,
      let problem = append(markdown(totals, budget: budget) + more, to: path)
    {
      ctx.err("warning: cannot append the summary to $GITHUB_STEP_SUMMARY (\(path)): \(problem)\n")
    }
  }

  /// Under GitHub Actions with a step summary file.
  package static func hasStepSummary(_ ctx: CommandContext) -> Bool {
    (ctx.environment["GITHUB_ACTIONS"].map { !$0.isEmpty } ?? false)
      && !(ctx.environment["GITHUB_STEP_SUMMARY"] ?? "").isEmpty
  }

  /// Appends Markdown to the step summary file (created if missing); the reason when it cannot.
  package static func append(_ text: String, to path: String) -> String? {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    guard fd >= 0 else { return String(cString: strerror(errno)) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    return FileSystem.writeAll(fd, bytes[...]) < bytes.count ? String(cString: strerror(errno)) : nil
  }

  /// Workflow-command escaping of the message part.
  static func data(_ s: String) -> String {
    s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(
      of: "\n", with: "%0A")
  }

  /// Escaping of a property value (also `:` and `,`).
  static func property(_ s: String) -> String {
    data(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
  }

}
