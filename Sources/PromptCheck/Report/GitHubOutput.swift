import Foundation

/// GitHub Actions output: `::error` annotations on the tests' lines and a
/// Markdown summary for `$GITHUB_STEP_SUMMARY`.
public enum GitHubOutput {
  /// One `::error file=…,line=…::` line per failed or errored case.
  public static func annotations(_ summary: RunSummary) -> String {
    var out = ""
    for r in summary.results where (r.status == .failed && !r.tolerated) || r.status == .errored {
      let c = r.plannedCase
      let message = r.status == .failed ? r.failedFindings.map(\.description).joined(separator: "\n") : (r.error ?? "could not run")
      out += "::error file=\(property(c.suiteFile)),line=\(c.location.line),title=\(property("promptcheck: \(c.id)"))::\(data(message))\n"
    }
    return out
  }

  public static func annotate(_ summary: RunSummary, write: (String) -> Void) {
    let text = annotations(summary)
    if !text.isEmpty { write(text) }
  }

  /// The Markdown summary: counts, then each failed case with its first message.
  public static func markdown(_ summary: RunSummary) -> String {
    var md = "## promptcheck\n\n| passed | failed | errored | skipped |\n|---:|---:|---:|---:|\n"
    md += "| \(summary.passed) | \(summary.failed) | \(summary.errored) | \(summary.skipped) |\n"
    let problems = summary.results.filter { ($0.status == .failed && !$0.tolerated) || $0.status == .errored }
    if !problems.isEmpty {
      md += "\n### Failed and errored cases\n\n"
      for r in problems {
        let first = r.status == .failed ? r.failedFindings.first?.description ?? "" : r.error ?? ""
        let line = first.split(separator: "\n").first.map(String.init) ?? ""
        md += "- **\(r.status.rawValue)** `\(r.plannedCase.id)` (\(r.plannedCase.suiteFile):\(r.plannedCase.location.line)): \(escapeMarkdown(line))\n"
      }
    }
    return md + "\n"
  }

  public static func appendSummary(_ summary: RunSummary, to path: String) {
    guard let handle = FileHandle(forWritingAtPath: path) ?? {
      FileManager.default.createFile(atPath: path, contents: nil)
      return FileHandle(forWritingAtPath: path)
    }() else { return }
    handle.seekToEndOfFile()
    handle.write(Data(markdown(summary).utf8))
    handle.closeFile()
  }

  /// Workflow-command escaping of the message part.
  static func data(_ s: String) -> String {
    s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
  }

  /// Escaping of a property value (also `:` and `,`).
  static func property(_ s: String) -> String {
    data(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
  }

  static func escapeMarkdown(_ s: String) -> String {
    var out = ""
    for ch in s {
      if "\\`*_{}[]<>|".contains(ch) { out.append("\\") }
      out.append(ch)
    }
    return out
  }
}
