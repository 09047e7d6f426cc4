import Foundation
import PromptCheckCore
import PromptCheckExecute
import PromptCheckReport

/// A comparison for the terminal, a pull-request comment (Markdown), a page (HTML) and tools (JSON).
package enum ComparisonRendering {
  /// GitHub's limit on a comment body; the Markdown stays under it.
  package static let commentLimit = 65_536

  static func label(_ c: Comparison.Case) -> String {
    switch (c.flip, c.change) {
    case (.regression?, _): return "REGRESSION"
    case (.fix?, _): return "FIX"
    case (.nowErrored?, _): return "ERRORED"
    case (nil, .changed): return "CHANGED"
    case (nil, .added): return "ADDED"
    case (nil, .removed): return "REMOVED"
    case (nil, .unchanged): return "UNCHANGED"
    }
  }

  static func statusText(_ c: Comparison.Case) -> String? {
    guard let a = c.base?.status, let b = c.head?.status, a != b || c.flip != nil else { return nil }
    return "\(a.rawValue) → \(b.rawValue)"
  }

  static func deltas(_ c: Comparison.Case) -> String? {
    var parts: [String] = []
    if let t = c.tokenDelta, t != 0 { parts.append("tokens \(t > 0 ? "+" : "")\(t)") }
    if let r = c.reasoningDelta, r != 0 { parts.append("reasoning \(r > 0 ? "+" : "")\(r)") }
    if let d = c.costDelta, d != 0 { parts.append("cost \(d > 0 ? "+" : "-")$\(NumberText.money(abs(d)))") }
    if let l = c.latencyDelta, l != 0 { parts.append("latency \(l > 0 ? "+" : "")\(l) ms") }
    return parts.isEmpty ? nil : parts.joined(separator: ", ")
  }

  /// Summary first, then each case that changed, with its answer diff (changed words marked).
  package static func terminal(_ c: Comparison, color: Bool) -> String {
    func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    var out = c.summaryLine + "\n"
    if let m = c.metricsLine { out += m + "\n" }
    for k in c.interesting {
      out += "\n" + paint(label(k), k.flip == .regression ? "31" : k.flip == .fix ? "32" : "33") + "  \(k.id)"
      if let s = statusText(k) { out += "  \(s)" }
      if let d = deltas(k) { out += paint("  (\(d))", "2") }
      out += "\n"
      if !k.trajectoryChanges.isEmpty {
        out += "    trajectory:\n" + k.trajectoryChanges.map { "      \($0)\n" }.joined()
      }
      if let fork = k.fork { out += forkText(fork, c) }
      if let diff = k.diff {
        for line in TextChange.wordMarked(diff, color: color).split(separator: "\n") { out += "    " + line + "\n" }
      }
    }
    return out
  }

  /// `fork at turn 3`, then each side's turns from there, one line a message.
  static func forkText(_ fork: Comparison.Case.Fork, _ c: Comparison) -> String {
    func flat(_ s: String) -> String {
      let f = s.replacingOccurrences(of: "\n", with: " ")
      return f.unicodeScalars.count <= 100 ? f : String(String.UnicodeScalarView(f.unicodeScalars.prefix(100))) + "…"
    }
    var out = "    fork at turn \(fork.turn):\n"
    for (name, turns) in [(c.baseName, fork.base), (c.headName, fork.head)] {
      out += "      \(name):\n"
      if turns.isEmpty { out += "        (no turn \(fork.turn))\n" }
      for (k, t) in turns.enumerated() {
        out += "        turn \(fork.turn + k) user: \(flat(t.user))\n"
        out += "        turn \(fork.turn + k) assistant: \(flat(t.reply))\n"
      }
    }
    return out
  }

  /// A pull-request comment: the counts, regressions first, each diff folded; under GitHub's limit.
  package static func markdown(_ c: Comparison, limit: Int = commentLimit) -> String {
    var head = "## promptcheck: \(c.baseName) → \(c.headName)\n\n| | cases |\n|---|---:|\n"
    if c.bothReports {
      head += "| regressions | \(c.count(.regression)) |\n| fixes | \(c.count(.fix)) |\n"
      if c.count(.nowErrored) > 0 { head += "| now errored | \(c.count(.nowErrored)) |\n" }
    }
    head += "| answers changed | \(c.count(.changed)) |\n| added | \(c.count(.added)) |\n"
    head += "| removed | \(c.count(.removed)) |\n| unchanged | \(c.count(.unchanged)) |\n"
    if let m = c.metricsLine { head += "\n\(escapeHTML(m))\n" }
    if !c.bothReports && !c.goldenChanges.isEmpty {
      head += "\n**\(counted(c.goldenChanges.count, "case")) with a golden changed its answer.**\n"
    }
    var body = ""
    var shown = 0
    let interesting = c.interesting
    for k in interesting {
      var section = "\n<details><summary><b>\(label(k))</b> <code>\(escapeHTML(k.id))</code>"
      if let s = statusText(k) { section += " — \(s)" }
      if let d = deltas(k) { section += " (\(d))" }
      section += "</summary>\n\n"
      if !k.trajectoryChanges.isEmpty {
        section +=
          "Trajectory:\n\n"
          + k.trajectoryChanges.map { "- `\($0.replacingOccurrences(of: "`", with: "'"))`\n" }.joined() + "\n"
      }
      if let fork = k.fork {
        // Side by side from the turn where the conversations part.
        func cell(_ list: [TurnText], _ i: Int, _ pick: (TurnText) -> String) -> String {
          guard i < list.count else { return "" }
          return escapeHTML(pick(list[i])).replacingOccurrences(of: "\n", with: "<br>")
            .replacingOccurrences(of: "|", with: "\\|")
        }
        section +=
          "Fork at turn \(fork.turn):\n\n| | \(escapeHTML(c.baseName)) | \(escapeHTML(c.headName)) |\n|---|---|---|\n"
        for i in 0..<max(fork.base.count, fork.head.count) {
          section += "| turn \(fork.turn + i) user | \(cell(fork.base, i, \.user)) | \(cell(fork.head, i, \.user)) |\n"
          section += "| assistant | \(cell(fork.base, i, \.reply)) | \(cell(fork.head, i, \.reply)) |\n"
        }
        section += "\n"
      }
      if let diff = k.diff {
        let fence = diff.contains("```") ? "~~~~" : "```"
        section += "\(fence)diff\n\(diff)\(diff.hasSuffix("\n") ? "" : "\n")\(fence)\n"
      } else if k.change == .added {
        section += "new case\n"
      } else if k.change == .removed {
        section += "no longer run\n"
      } else {
        section += k.trajectoryChanges.isEmpty ? "same answer\n" : "same final answer\n"
      }
      section += "\n</details>\n"
      let note =
        "\n_… \(counted(interesting.count - shown, "more case")) not shown: the comment would pass GitHub's \(limit) characters. See the HTML or JSON output of `promptcheck compare`._\n"
      if (head + body + section).utf8.count + note.utf8.count > limit { return head + body + note }
      body += section
      shown += 1
    }
    return head + body
  }

  static func escapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }

  package static func json(_ c: Comparison) -> String {
    var root = JSONObject()
    root["base"] = .string(c.baseName)
    root["head"] = .string(c.headName)
    var summary = JSONObject()
    for ch in [Comparison.Change.changed, .added, .removed, .unchanged] { summary[ch.rawValue] = .int(c.count(ch)) }
    if c.bothReports {
      summary["regressions"] = .int(c.count(.regression))
      summary["fixes"] = .int(c.count(.fix))
      summary["now_errored"] = .int(c.count(.nowErrored))
    }
    summary["golden_answers_changed"] = .int(c.goldenChanges.count)
    root["summary"] = .object(summary)
    if !c.metrics.isEmpty {
      root["metrics"] = .object(
        JSONObject(
          c.metrics.map { m in
            func side(_ v: (passed: Int, total: Int)?) -> JSON {
              v.map { ["passed": .int($0.passed), "total": .int($0.total)] } ?? .null
            }
            return (m.name, ["base": side(m.base), "head": side(m.head)])
          }))
    }
    root["cases"] = .array(
      c.cases.map { k in
        var o = JSONObject()
        o["id"] = .string(k.id)
        o["change"] = .string(k.change.rawValue)
        if let f = k.flip { o["flip"] = .string(f.rawValue) }
        if let s = k.base?.status { o["base_status"] = .string(s.rawValue) }
        if let s = k.head?.status { o["head_status"] = .string(s.rawValue) }
        if let d = k.diff { o["diff"] = .string(d) }
        if !k.trajectoryChanges.isEmpty {
          var t = JSONObject()
          for (side, answer) in [("base", k.base), ("head", k.head)] {
            guard let tr = answer?.trajectory else { continue }
            t[side] = [
              "tools": .array(tr.calls.map { ["name": .string($0.name), "arguments": .string($0.arguments)] }),
              "model_calls": .int(tr.modelCalls),
            ]
          }
          t["changes"] = .array(k.trajectoryChanges.map(JSON.string))
          o["trajectory"] = .object(t)
        }
        if let fork = k.fork {
          func turns(_ list: [TurnText]) -> JSON {
            .array(list.map { ["user": .string($0.user), "reply": .string($0.reply)] })
          }
          o["fork"] = ["turn": .int(fork.turn), "base": turns(fork.base), "head": turns(fork.head)]
        }
        if let t = k.tokenDelta { o["tokens_delta"] = .int(t) }
        if let r = k.reasoningDelta { o["reasoning_tokens_delta"] = .int(r) }
        if let d = k.costDelta { o["cost_delta"] = .double(d) }
        if let l = k.latencyDelta { o["latency_ms_delta"] = .int(l) }
        return .object(o)
      })
    return JSON.object(root).prettyPrinted(keys: .asWritten) + "\n"
  }

  /// One page: the counts, then each changed case with its answers side by side.
  package static func html(_ c: Comparison) -> String {
    var cases = ""
    for k in c.interesting {
      cases += "<section class=\"case\"><div class=\"head\"><span class=\"badge\">\(label(k))</span>"
      cases += "<span class=\"id\">\(HTMLReport.escape(k.id))</span>"
      if let s = statusText(k) { cases += "<span class=\"where\">\(HTMLReport.escape(s))</span>" }
      if let d = deltas(k) { cases += "<span class=\"where\">\(HTMLReport.escape(d))</span>" }
      cases += "</div>"
      if !k.trajectoryChanges.isEmpty {
        cases +=
          "<ul class=\"findings\">" + k.trajectoryChanges.map { "<li>\(HTMLReport.escape($0))</li>" }.joined()
          + "</ul>"
      }
      if let fork = k.fork {
        // The two conversations side by side from the turn where they part.
        cases += "<p class=\"where\">fork at turn \(fork.turn)</p><table class=\"fork\"><tr><th></th>"
        cases += "<th>\(HTMLReport.escape(c.baseName))</th><th>\(HTMLReport.escape(c.headName))</th></tr>"
        for i in 0..<max(fork.base.count, fork.head.count) {
          func cell(_ list: [TurnText], _ pick: (TurnText) -> String) -> String {
            i < list.count ? "<td><pre>\(HTMLReport.escape(pick(list[i])))</pre></td>" : "<td></td>"
          }
          cases += "<tr><th>turn \(fork.turn + i) user</th>\(cell(fork.base, \.user))\(cell(fork.head, \.user))</tr>"
          cases += "<tr><th>assistant</th>\(cell(fork.base, \.reply))\(cell(fork.head, \.reply))</tr>"
        }
        cases += "</table>"
      }
      if let diff = k.diff {
        cases += HTMLReport.sideBySide(diff, labels: (c.baseName, c.headName))
      } else if let a = k.head ?? k.base {
        cases += "<pre class=\"output\">\(HTMLReport.escape(a.text))</pre>"
      }
      cases += "</section>\n"
    }
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>promptcheck compare</title><style>\(HTMLReport.css)</style></head>
      <body><header><h1>promptcheck compare</h1><p class="meta">\(HTMLReport.escape(c.summaryLine))</p>
      <p class="meta">old answers on the left (\(HTMLReport.escape(c.baseName))), new on the right (\(HTMLReport.escape(c.headName)))</p></header>
      <main>
      \(cases)</main></body></html>

      """
  }
}
