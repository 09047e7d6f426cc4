import Foundation
import PromptCheckCore

/// JUnit XML (README "Reports"), valid against the Jenkins xUnit schema: one
/// `<testsuite>` per suite file, one `<testcase>` per case, failures listing
/// every failed assertion with the test's `path:line` and any golden diff.
package enum JUnitReport {
  package struct Options: Sendable {
    /// `--junit-file-attributes`: `file` and `line` on each testcase (GitLab/GitHub read them; strict schemas do not allow them).
    package var fileAttributes = false
    package init() {}
  }

  package static func render(_ report: Report, options: Options = Options()) -> String {
    String(decoding: Sections(options).render(report), as: UTF8.self)
  }

  /// Each testcase written as its case is reported; the suites' heads, which hold their counts,
  /// when the run ends. Suites keep the order in which their first case came.
  struct Sections: ReportSections {
    struct Suite {
      var ranges = SpoolRanges()
      var cases = 0
      var tally = Tally()
      var timeMS = 0
      var usage = UsageTotals()
    }

    var options: Options
    var order: [String] = []
    var suites: [String: Suite] = [:]

    init(_ options: Options) { self.options = options }

    mutating func add(_ c: ReportCase, to spool: Spool) {
      if suites[c.suite] == nil { order.append(c.suite) }
      let range = spool.append { writeTestcase(c, options, into: &$0) }
      suites[c.suite, default: Suite()].add(c, range)
    }

    func assemble(_ head: ReportHead, _ totals: ReportTotals, from spool: Spool, to sink: ([UInt8]) -> Void) {
      sink(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n".utf8))
      let timestamp = timestampFormatter.string(from: head.startedAt)
      for name in order {
        guard let suite = suites[name] else { continue }
        let t = suite.tally
        var out =
          "  <testsuite name=\"\(attr(name))\" tests=\"\(suite.cases)\" failures=\"\(t.failed)\" errors=\"\(t.errored)\" skipped=\"\(t.skipped)\" time=\"\(seconds(suite.timeMS))\" timestamp=\"\(timestamp)\">\n"
        out +=
          "    <properties>\n      <property name=\"promptcheck.version\" value=\"\(attr(promptcheckVersion))\"/>\n      <property name=\"promptcheck.mode\" value=\"\(attr(head.mode))\"/>\n"
        // The suite's tokens and cost (per case, they are in each testcase's system-out).
        let usage = suite.usage
        if usage.cases > 0 {
          for (name, value) in [
            ("prompt_tokens", usage.promptTokens), ("completion_tokens", usage.completionTokens),
            ("reasoning_tokens", usage.reasoningTokens), ("cached_tokens", usage.cachedTokens),
          ] {
            out += "      <property name=\"promptcheck.\(name)\" value=\"\(value)\"/>\n"
          }
          if let cost = usage.cost {
            out += "      <property name=\"promptcheck.cost_usd\" value=\"\(NumberText.money(cost))\"/>\n"
          }
        }
        out += "    </properties>\n"
        sink(Array(out.utf8))
        suite.ranges.copy(from: spool, to: sink)
        sink(Array("  </testsuite>\n".utf8))
      }
      sink(Array("</testsuites>\n".utf8))
    }
  }

  /// A case's `<testcase>`, written straight into the report's bytes.
  static func writeTestcase(_ r: ReportCase, _ options: Options, into out: inout [UInt8]) {
    out += "    <testcase name=\"".utf8
    attr(r.shortName, into: &out)
    out += "\" classname=\"".utf8
    attr(r.suite, into: &out)
    if let column = r.column { attr(" @ " + column, into: &out) }
    out += "\" time=\"".utf8
    out += seconds(r.durationMS).utf8
    out += "\"".utf8
    if options.fileAttributes {
      out += " file=\"".utf8
      attr(r.file, into: &out)
      out += "\" line=\"\(r.line)\"".utf8
    }
    // Every case has a body: its system-out, or its skip.
    out += ">\n".utf8
    switch r.status {
    case .passed:
      break
    case .failed where r.tolerated:
      break  // reported in system-out; JUnit has no "tolerated"
    case .failed:
      let failed = r.failedAssertions
      let message = failed.count == 1 ? failed[0].message : "\(failed.count) assertions failed"
      var detail = "\(r.file):\(r.line): \(r.name)\n"
      for f in failed { detail += f.message + "\n" }
      out += "      <failure message=\"".utf8
      attr(firstLine(message), into: &out)
      out += "\" type=\"".utf8
      attr(failed.first?.kind ?? "assertion", into: &out)
      out += "\">".utf8
      text(detail, into: &out)
      out += "</failure>\n".utf8
    case .errored:
      let message = r.error ?? "the case could not run"
      let type = r.cassette.status == .missing || r.cassette.status == .stale ? "cassette" : "call"
      out += "      <error message=\"".utf8
      attr(firstLine(message), into: &out)
      out += "\" type=\"\(type)\">".utf8
      text("\(r.file):\(r.line): \(message)\n", into: &out)
      out += "</error>\n".utf8
    case .skipped:
      out += "      <skipped message=\"".utf8
      attr(r.error ?? "skipped", into: &out)
      out += "\"/>\n".utf8
    }
    if r.status != .skipped {
      out += "      <system-out>".utf8
      text(systemOut(r), into: &out)
      out += "</system-out>\n".utf8
    }
    out += "    </testcase>\n".utf8
  }

  static func systemOut(_ r: ReportCase) -> String {
    var lines: [String] = []
    if let l = r.latencyMS { lines.append("latency: \(l) ms") }
    if let u = r.usage {
      var t =
        "tokens: prompt \(u.promptTokens.map(String.init) ?? "?"), completion \(u.completionTokens.map(String.init) ?? "?"), total \(u.totalTokens.map(String.init) ?? "?")"
      if let r = u.reasoningTokens { t += ", reasoning \(r)" }
      if let c = u.cachedTokens { t += ", cached \(c)" }
      if let cost = u.cost { t += "; cost: $\(NumberText.money(cost))" + (u.costIsEstimated ? " (estimated)" : "") }
      lines.append(t)
    }
    if let m = r.model { lines.append("model: \(m)" + (r.provider.map { " (provider \($0))" } ?? "")) }
    lines.append("cassette: \(r.cassette.path) (\(r.cassette.status.rawValue))")
    if !r.steps.isEmpty {
      lines.append("steps:")
      lines += r.steps.enumerated().map { $1.line(number: $0 + 1) }
    }
    lines += r.notes
    if r.tolerated {
      lines += r.failedAssertions.map { "tolerated failure: \($0.message)" }
    }
    if let output = r.output {
      lines.append("output:")
      lines.append(output)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static var timestampFormatter: DateFormatter { UTCTime.formatter(UTCTime.zoneless) }

  /// Seconds with at most 3 decimals.
  static func seconds(_ ms: Int) -> String {
    guard ms >= 0 else { return String(format: "%.3f", Double(ms) / 1000) }
    let fraction = String(ms % 1000)
    return "\(ms / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
  }

  static func firstLine(_ s: String) -> String {
    let line = s.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? s
    return line.unicodeScalars.count > 300
      ? String(String.UnicodeScalarView(line.unicodeScalars.prefix(300))) + "…" : line
  }

  /// Characters XML 1.0 allows (others are dropped).
  static func allowed(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
    default: return false
    }
  }

  /// Escapes text content.
  static func text(_ s: String) -> String { escape(s, attribute: false) }
  static func text(_ s: String, into out: inout [UInt8]) { out += escape(s, attribute: false).utf8 }

  /// Escapes an attribute value (line breaks and tabs kept as character references).
  static func attr(_ s: String) -> String { escape(s, attribute: true) }
  static func attr(_ s: String, into out: inout [UInt8]) { out += escape(s, attribute: true).utf8 }

  static func escape(_ s: String, attribute: Bool) -> String {
    // Fast path: nothing to escape or drop (bytes from 0xEF may start U+FFFE/U+FFFF).
    let needsWork = s.utf8.contains { b in
      b == UInt8(ascii: "&") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b >= 0xEF
        || (b < 0x20 && (attribute || (b != 0x9 && b != 0xA)))
        || (attribute && (b == UInt8(ascii: "\"") || b == UInt8(ascii: "'")))
    }
    guard needsWork else { return s }
    var out = ""
    out.reserveCapacity(s.utf8.count + 16)
    for u in s.unicodeScalars where allowed(u) {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\r": out += "&#13;"
      case "\"" where attribute: out += "&quot;"
      case "'" where attribute: out += "&apos;"
      case "\n" where attribute: out += "&#10;"
      case "\t" where attribute: out += "&#9;"
      default: out.unicodeScalars.append(u)
      }
    }
    return out
  }
}

extension JUnitReport.Sections.Suite {
  mutating func add(_ c: ReportCase, _ range: Range<Int>) {
    ranges.append(range)
    cases += 1
    tally.add(c.status, tolerated: c.tolerated)
    timeMS += c.durationMS
    for u in c.allUsage { usage.add(u) }
  }
}
