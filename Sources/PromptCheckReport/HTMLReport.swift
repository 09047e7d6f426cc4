import Foundation
import PromptCheckCore

/// One self-contained HTML page (no external assets): the run summary, each
/// case with its messages, output and failed assertions, golden diffs side by
/// side (old | new) with changed words highlighted, and filters.
package enum HTMLReport {
  package static func render(_ report: Report) -> String {
    String(decoding: Sections().render(report), as: UTF8.self)
  }

  /// Each case's card written as it is reported (failures and errors apart, to come first), and
  /// each side-by-side cell; the head, the table and the order of it all when the run ends.
  struct Sections: ReportSections {
    /// A cell of the side-by-side table: where its HTML is, and a hash of its answer (a row whose
    /// answers differ is marked without keeping every answer).
    struct Cell {
      var range: Range<Int>
      var answer: Int
    }

    var problems = SpoolRanges()
    var others = SpoolRanges()
    var rows: [String] = []
    var cells: [String: [String: Cell]] = [:]

    mutating func add(_ c: ReportCase, to spool: Spool) {
      let range = spool.append { $0 += card(c).utf8 }
      if c.isProblem {
        problems.append(range)
      } else {
        others.append(range)
      }
      guard let col = c.column, let row = c.row else { return }
      if cells[row] == nil { rows.append(row) }
      let status = c.tolerated ? "tolerated" : c.status.rawValue
      let cell = spool.append {
        $0 +=
          "<td><span class=\"badge \(status)\">\(status)</span><pre class=\"output\">\(escape(c.output ?? c.error ?? ""))</pre></td>"
          .utf8
      }
      cells[row, default: [:]][col] = Cell(range: cell, answer: (c.output ?? "").hashValue)
    }

    func assemble(_ head: ReportHead, _ totals: ReportTotals, from spool: Spool, to sink: ([UInt8]) -> Void) {
      let tally = totals.tally
      let seconds = Double(head.durationMS) / 1000
      sink(
        Array(
          """
          <!DOCTYPE html>
          <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
          <title>promptcheck report</title>
          <style>\(css)</style></head>
          <body>
          <header><h1>promptcheck</h1>
          <p class="meta">\(escape(JSONReport.iso8601(head.startedAt))) · mode \(escape(head.mode)) · \(counted(totals.count, "case")) · run time \(String(format: "%.2f", seconds)) s · promptcheck \(promptcheckVersion)</p>
          <div class="counts">
          <span class="count passed">\(tally.passed) passed</span>
          <span class="count failed">\(tally.failed) failed</span>
          <span class="count errored">\(tally.errored) errored</span>
          <span class="count skipped">\(tally.skipped) skipped</span>
          </div>
          \(totals.usage.cases > 0 ? "<p class=\"meta\">\(escape(totals.usage.line))</p>" : "")
          <nav><button data-filter="all" class="on">All</button><button data-filter="failed">Failed</button><button data-filter="errored">Errored</button><button data-filter="problems">Failed + errored</button></nav>
          </header>
          \(repeatedTests(head.groups))
          """.utf8))
      sideBySideTargets(totals.columns, from: spool, to: sink)
      sink(Array("<main id=\"cases\">\n".utf8))
      // Failures and errors first (in plan order), then the rest.
      problems.copy(from: spool, to: sink)
      others.copy(from: spool, to: sink)
      sink(
        Array(
          """
          </main>
          <script>\(script)</script>
          </body></html>

          """.utf8))
    }

    /// When the run compares targets or prompt versions: one column each, one row per case,
    /// every cell the status and the answer; a row whose answers differ is marked.
    func sideBySideTargets(_ columns: [String], from spool: Spool, to sink: ([UInt8]) -> Void) {
      guard !columns.isEmpty else { return }
      var html = "<section class=\"targets\"><h2>Side by side</h2><table class=\"targets\"><thead><tr><th>case</th>"
      for col in columns { html += "<th>\(escape(col))</th>" }
      html += "</tr></thead><tbody>"
      let empty = "".hashValue
      for row in rows {
        let answers = Set(columns.map { cells[row]?[$0]?.answer ?? empty })
        html += "<tr\(answers.count > 1 ? " class=\"differs\"" : "")><td class=\"id\">\(escape(row))</td>"
        for col in columns {
          guard let cell = cells[row]?[col] else {
            html += "<td class=\"empty\"></td>"
            continue
          }
          sink(Array(html.utf8))
          html = ""
          spool.copy(cell.range, to: sink)
        }
        html += "</tr>"
      }
      sink(Array((html + "</tbody></table></section>\n").utf8))
    }
  }

  /// The repeated tests: flaky ones (mixed results) first and apart, then the steady ones.
  static func repeatedTests(_ groups: [RepeatGroup]) -> String {
    guard !groups.isEmpty else { return "" }
    func rows(_ gs: [RepeatGroup]) -> String {
      gs.map { "<li>\(escape(TerminalReporter.groupLine($0)))</li>" }.joined()
    }
    let flaky = groups.filter(\.flaky)
    let steady = groups.filter { !$0.flaky }
    var out = "<section class=\"repeats\">"
    if !flaky.isEmpty {
      out +=
        "<h2>Flaky tests <small>(mixed results over repetitions)</small></h2><ul class=\"flaky\">\(rows(flaky))</ul>"
    }
    if !steady.isEmpty { out += "<h2>Repeated tests</h2><ul>\(rows(steady))</ul>" }
    return out + "</section>\n"
  }

  /// A conversation case as a transcript (README "Conversations"): each turn's user message, the
  /// assistant's tool calls and reply, and that turn's checks beside it.
  static func conversation(_ r: ReportCase) -> String {
    var out = "<details open><summary>Conversation"
    if let e = r.endedBy { out += " <span class=\"meta\">ended by \(escape(e)) after \(r.turns.count) turns</span>" }
    out += "</summary><ol class=\"turns\">"
    for t in r.turns {
      out += "<li class=\"turn\(t.passed ? "" : " failed")\"><div class=\"talk\">"
      out += "<div class=\"msg user\"><span class=\"role\">user</span><pre>\(escape(t.user))</pre></div>"
      for i in (t.firstStep - 1)..<min(t.lastStep, r.steps.count) {
        let s = r.steps[i]
        switch s.kind {
        case .tool:
          out +=
            "<div class=\"msg tool\"><span class=\"role\">tool</span><pre>\(escape(s.line(number: i + 1, width: 200)))</pre></div>"
        case .app:
          out +=
            "<div class=\"msg tool\"><span class=\"role\">app call</span><pre>\(escape(s.line(number: i + 1, width: 200)))</pre></div>"
        case .model, .target:
          for call in s.toolCalls {
            out +=
              "<div class=\"msg tool\"><span class=\"role\">calls</span><pre>\(escape("\(call.name)(\(call.arguments))"))</pre></div>"
          }
          if !s.text.isEmpty || s.toolCalls.isEmpty {
            out +=
              "<div class=\"msg assistant\"><span class=\"role\">assistant</span><pre>\(escape(s.text))</pre></div>"
          }
        case .user:
          break
        }
      }
      out += "</div><ul class=\"checks\">"
      for a in r.assertions where a.turn == t.number {
        out += "<li class=\"\(a.passed ? "pass" : "fail")\">\(a.passed ? "✓" : "✗") \(escape(a.message))</li>"
      }
      out += "</ul></li>"
    }
    return out + "</ol></details>"
  }

  static func card(_ r: ReportCase) -> String {
    let status = r.tolerated ? "tolerated" : r.status.rawValue
    var body = ""
    if r.status == .skipped {
      body += "<p class=\"reason\">skipped: \(escape(r.error ?? ""))</p>"
    }
    if let e = r.error, r.status == .errored { body += "<pre class=\"error\">\(escape(e))</pre>" }
    let failed = r.failedAssertions.filter { $0.kind != "golden" }
    if !failed.isEmpty {
      body += "<h3>Failed assertions</h3><ul class=\"findings\">"
      for f in failed { body += "<li>\(escape(f.message))</li>" }
      body += "</ul>"
    }
    let judgedPasses = r.assertions.filter { $0.passed && ($0.score != nil || $0.reason != nil) }
    if !judgedPasses.isEmpty {
      body += "<h3>Judged assertions that passed</h3><ul class=\"findings judged\">"
      for f in judgedPasses { body += "<li>\(escape(f.message))</li>" }
      body += "</ul>"
    }
    if let diff = r.golden.diff {
      body += "<h3>Golden <code>\(escape(r.golden.path ?? ""))</code></h3>" + sideBySide(diff)
    } else if r.golden.status == .missing {
      body += "<p class=\"reason\">no golden at \(escape(r.golden.path ?? "")); a pending .new file was written</p>"
    }
    if r.golden.status == .missing || r.golden.status == .changed, let path = r.golden.path {
      body +=
        "<p class=\"reason\">accept it with <code>promptcheck accept '\(escape(Self.acceptFilter(path)))'</code> (or review it with <code>promptcheck review</code>)</p>"
    }
    if !r.messages.isEmpty {
      body += "<details><summary>Messages</summary>"
      for m in r.messages {
        let role = m["role"]?.stringValue ?? "?"
        let content = m["content"]?.stringValue ?? (m["content"].map { $0.prettyPrinted(keys: .asWritten) } ?? "")
        body += "<div class=\"msg\"><span class=\"role\">\(escape(role))</span><pre>\(escape(content))</pre></div>"
      }
      body += "</details>"
    }
    if !r.turns.isEmpty {
      body += conversation(r)
    } else if !r.steps.isEmpty {
      // A case of several steps: its timeline, one row a step.
      body += "<details\(r.status == .passed ? "" : " open")><summary>Steps</summary><ol class=\"steps\">"
      for (k, step) in r.steps.enumerated() {
        body +=
          "<li><pre>\(escape(step.line(number: k + 1, width: 200)))</pre> <span class=\"meta\">\(step.durationMS) ms</span></li>"
      }
      body += "</ol></details>"
    }
    if let output = r.output {
      body +=
        "<details\(r.status == .passed ? "" : " open")><summary>Output</summary><pre class=\"output\">\(escape(output))</pre>"
      if let reasoning = r.reasoning {
        body += "<p class=\"meta\">reasoning</p><pre class=\"output\">\(escape(reasoning))</pre>"
      }
      var meta =
        r.latencyMS.map { "answer latency \($0) ms" + (r.cassette.status == .replayed ? " (as recorded)" : "") } ?? ""
      if let u = r.usage {
        meta += " · \(u.totalTokens.map(String.init) ?? "?") tokens"
        if let k = u.reasoningTokens, k > 0 { meta += " (\(k) reasoning)" }
        if let k = u.cachedTokens, k > 0 { meta += " (\(k) cached)" }
        if let cost = u.cost { meta += " · $\(NumberText.money(cost))" + (u.costIsEstimated ? " (estimated)" : "") }
      }
      if let m = r.model { meta += " · \(escape(m))" }
      body += "<p class=\"meta\">\(meta)</p></details>"
    }
    if let change = r.recordedChange {
      body +=
        "<h3>Answer changed on re-recording</h3>" + sideBySide(change, labels: ("recorded before", "recorded now"))
    }
    for n in r.notes { body += "<p class=\"note\">\(escape(n))</p>" }
    return """
      <section class="case \(status)" data-status="\(r.status.rawValue)">
      <div class="head"><span class="badge \(status)">\(status)</span><span class="id">\(escape(r.id))</span><span class="where">\(escape(r.file)):\(r.line) · run time \(r.durationMS) ms · cassette \(r.cassette.status.rawValue)</span></div>
      \(body)
      </section>

      """
  }

  /// The `accept` filter that selects exactly this golden: its `SUITE/CASE` (the path under
  /// the golden folder, without the extension).
  package static func acceptFilter(_ goldenPath: String) -> String {
    var key = goldenPath
    if let r = key.range(of: "/golden/") { key = String(key[r.upperBound...]) }
    for ext in [".txt", ".json"] where key.hasSuffix(ext) { key.removeLast(ext.count) }
    return key
  }

  /// A unified diff as a two-column table (old | new), changed words marked.
  package static func sideBySide(_ diff: String, labels: (old: String, new: String) = ("golden (old)", "output (new)"))
    -> String
  {
    var rows = ""
    var minus: [Substring] = []
    var plus: [Substring] = []
    func flush() {
      for i in 0..<max(minus.count, plus.count) {
        let old = i < minus.count ? minus[i] : nil
        let new = i < plus.count ? plus[i] : nil
        let (l, r) = wordDiff(old.map(String.init), new.map(String.init))
        rows +=
          "<tr><td class=\"\(old == nil ? "empty" : "del")\">\(l)</td><td class=\"\(new == nil ? "empty" : "add")\">\(r)</td></tr>"
      }
      minus.removeAll()
      plus.removeAll()
    }
    for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("---") || line.hasPrefix("+++") || line.hasPrefix("\\") { continue }
      if line.hasPrefix("@@") {
        flush()
        rows += "<tr class=\"hunk\"><td colspan=\"2\">\(escape(String(line)))</td></tr>"
      } else if line.hasPrefix("-") {
        minus.append(line.dropFirst())
      } else if line.hasPrefix("+") {
        plus.append(line.dropFirst())
      } else if line.hasPrefix(" ") {
        flush()
        let t = escape(String(line.dropFirst()))
        rows += "<tr><td>\(t)</td><td>\(t)</td></tr>"
      }
    }
    flush()
    return
      "<table class=\"diff\"><thead><tr><th>\(escape(labels.old))</th><th>\(escape(labels.new))</th></tr></thead><tbody>\(rows)</tbody></table>"
  }

  /// Escaped old and new lines with differing words wrapped in `<mark>`.
  static func wordDiff(_ old: String?, _ new: String?) -> (String, String) {
    guard let old, let new else { return (old.map(escape) ?? "", new.map(escape) ?? "") }
    let a = TextChange.words(old).map(String.init)
    let b = TextChange.words(new).map(String.init)
    guard a.count * b.count <= 250_000 else { return (escape(old), escape(new)) }
    // Longest common subsequence of tokens.
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
      for j in stride(from: b.count - 1, through: 0, by: -1) {
        table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
      }
    }
    var left = ""
    var right = ""
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      if i < a.count, j < b.count, a[i] == b[j] {
        left += escape(a[i])
        right += escape(b[j])
        i += 1
        j += 1
      } else if j < b.count && (i == a.count || table[i][j + 1] >= table[i + 1][j]) {
        right += "<mark>\(escape(b[j]))</mark>"
        j += 1
      } else {
        left += "<mark>\(escape(a[i]))</mark>"
        i += 1
      }
    }
    return (left, right)
  }

  package static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default:
        if u.value < 0x20 && u != "\n" && u != "\t" { out += "&#\(u.value);" } else { out.unicodeScalars.append(u) }
      }
    }
    return out
  }

  package static let css = """
    :root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--err:#9a6700;--skip:#6e7781}
    *{box-sizing:border-box}body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:#fff}
    header{padding:20px 28px;border-bottom:1px solid var(--line);background:var(--bg);position:sticky;top:0;z-index:1}
    h1{margin:0 0 4px;font-size:22px}h3{font-size:13px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
    .meta{color:var(--muted);margin:0}.counts{margin:10px 0}.count{display:inline-block;margin-right:14px;font-weight:600;font-size:16px}
    .count.passed{color:var(--pass)}.count.failed{color:var(--fail)}.count.errored{color:var(--err)}.count.skipped{color:var(--skip)}
    nav button{border:1px solid var(--line);background:#fff;border-radius:6px;padding:4px 12px;margin-right:6px;cursor:pointer;font:inherit}
    nav button.on{background:var(--fg);color:#fff;border-color:var(--fg)}
    main{padding:16px 28px}.case{border:1px solid var(--line);border-radius:8px;margin:0 0 12px;padding:10px 14px;border-left-width:5px}
    .case.passed{border-left-color:var(--pass)}.case.failed{border-left-color:var(--fail)}.case.errored{border-left-color:var(--err)}.case.skipped,.case.tolerated{border-left-color:var(--skip)}
    .head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}.id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-weight:600}
    .where{color:var(--muted);font-size:12px}.badge{font-size:11px;font-weight:700;text-transform:uppercase;padding:1px 8px;border-radius:10px;color:#fff}
    .badge.passed{background:var(--pass)}.badge.failed{background:var(--fail)}.badge.errored{background:var(--err)}.badge.skipped,.badge.tolerated{background:var(--skip)}
    pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);border-radius:6px;padding:8px 10px;margin:4px 0;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
    pre.error{background:#fff8c5}section.repeats{margin:12px 0}section.targets{padding:0 28px}table.targets{border-collapse:collapse;width:100%;margin:8px 0}table.targets td,table.targets th{border:1px solid #d0d7de;padding:4px;vertical-align:top;text-align:left}tr.differs td{background:#fff8c5}section.repeats h2{font-size:15px;margin:8px 0 4px}ul.flaky li{color:var(--err)}ol.turns{list-style:none;padding:0}li.turn{display:flex;gap:12px;border-left:3px solid var(--pass);padding:4px 8px;margin:6px 0}li.turn.failed{border-color:var(--fail)}li.turn .talk{flex:2;min-width:0}li.turn ul.checks{flex:1;margin:0;padding-left:0;list-style:none;font-size:12px}li.turn ul.checks li.fail{color:var(--fail)}div.msg.user pre{background:#ddf4ff}div.msg.tool pre{background:#f6f8fa;font-size:12px}ul.findings{margin:0;padding-left:18px}ul.findings li{margin:4px 0}ul.findings code{font-weight:600}
    details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}.msg{margin:4px 0}.role{font-size:11px;font-weight:700;color:var(--muted);text-transform:uppercase}
    table.diff{width:100%;border-collapse:collapse;table-layout:fixed;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
    table.diff th{text-align:left;color:var(--muted);font-weight:600;padding:4px 8px;border-bottom:1px solid var(--line)}
    table.diff td{vertical-align:top;padding:1px 8px;white-space:pre-wrap;word-break:break-word;border-right:1px solid var(--line)}
    td.del{background:#ffebe9}td.add{background:#dafbe1}td.empty{background:#f6f8fa}tr.hunk td{color:#0969da;background:#ddf4ff}
    td.del mark{background:#ff818266}td.add mark{background:#4ac26b66}.note{color:var(--muted);font-size:12px}.reason{color:var(--muted)}
    h3 code{text-transform:none;letter-spacing:0;font-size:12px}
    .case.passed{padding:6px 14px}.case.passed details{display:inline-block;margin:2px 18px 0 0;vertical-align:top}
    .case.passed details[open]{display:block}
    .hidden{display:none}
    """

  static let script = """
    document.querySelectorAll('nav button').forEach(function(b){b.addEventListener('click',function(){
    document.querySelectorAll('nav button').forEach(function(x){x.classList.toggle('on',x===b)});
    var f=b.getAttribute('data-filter');document.querySelectorAll('.case').forEach(function(c){var s=c.getAttribute('data-status');
    var show=f==='all'||s===f||(f==='problems'&&(s==='failed'||s==='errored'));c.classList.toggle('hidden',!show);});});});
    """
}
