import Foundation
import PromptCheckCore

/// `run --mode auto --plan` (README "Calling the API"): what `auto` would send, sending nothing —
/// every case whose cassette is missing or stale, why (the field that differs), and what it is
/// likely to cost: the cost its cassette recorded (its model calls and judges), else the
/// provider's `pricing` at the request's size and `max_tokens`.
package struct RefreshPlan: Sendable {
  package struct Item: Sendable {
    package enum Why: String, Sendable { case missing, stale }
    package var id: String
    package var why: Why
    package var reason: String
    /// USD; nil when neither a recorded cost nor a pricing is known.
    package var estimate: Double?
    /// `recorded` or `pricing`.
    package var basis: String?
  }

  package var items: [Item] = []
  package var cases = 0

  /// The known estimates added up, and how many items have none.
  package var total: Double { items.compactMap(\.estimate).reduce(0, +) }
  package var unpriced: Int { items.count { $0.estimate == nil } }

  package static func make(_ cases: [PlannedCase], source: CassetteSource) -> RefreshPlan {
    var plan = RefreshPlan()
    plan.cases = cases.count
    for var c in cases where c.skip == nil {
      // An MCP case offers the tools its cassette recorded (as a replay does, no server started).
      if let loop = c.variant.loop, !loop.mcp.isEmpty {
        let own = c.variant.params["tools"]?.arrayValue ?? []
        c.variant.params["tools"] = .array(own + source.recordedTools(c, besides: own))
      }
      let (found, previous) = source.lookup(c)
      let why: Item.Why
      let reason: String
      switch found {
      case .replays:
        continue
      case .missing(let m):
        (why, reason) = (.missing, m)
      case .stale(let m):
        (why, reason) = (.stale, m)
      }
      var estimate: Double?
      var basis: String?
      if let previous, case .success(let steps) = previous.replayedSteps() {
        let judges = previous.judges.compactMap {
          Completion(response: $0.body, latencyMS: 0).usage?.cost
        }
        if let cost = steps.totalUsage?.cost {
          estimate = cost + judges.reduce(0, +)
          basis = "recorded"
        }
      }
      if estimate == nil, let e = CostBudget.estimate(c.request) {
        estimate = e
        basis = "pricing"
      }
      plan.items.append(Item(id: c.id, why: why, reason: reason, estimate: estimate, basis: basis))
    }
    return plan
  }

  /// The plan as the terminal shows it; `maxCost` says whether the budget covers it.
  package func text(maxCost: Double?) -> String {
    var out = "would record \(items.count) of \(cases) case\(cases == 1 ? "" : "s")"
    if items.isEmpty {
      out += "; nothing to send\n"
    } else if unpriced == items.count {
      out += ", cost unknown (no recorded cost, and no pricing for the provider)"
    } else {
      out += ", estimated $\(NumberText.money(total))"
      if unpriced > 0 { out += " (+ \(unpriced) with no recorded cost or pricing)" }
    }
    if !items.isEmpty { out += ":\n" }
    for i in items {
      let cost = i.estimate.map { "$\(NumberText.money($0)) (\(i.basis ?? ""))" } ?? "cost unknown"
      let reason = i.reason.split(separator: "\n").first.map(String.init) ?? ""
      out += "  \(i.why.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)) \(i.id)  \(cost)\n"
      out += "          \(reason)\n"
    }
    if let maxCost, !items.isEmpty {
      out +=
        total <= maxCost
        ? "--max-cost $\(NumberText.money(maxCost)) covers it\n"
        : "--max-cost $\(NumberText.money(maxCost)) does not cover it: the run would stop sending after about $\(NumberText.money(maxCost))\n"
    }
    return out
  }

  /// The plan for a GitHub step summary: a table of the cases to record, why and at what cost.
  package func markdown(maxCost: Double?) -> String {
    var md = "### Refresh plan\n\n"
    guard !items.isEmpty else { return md + "Nothing to record: every one of \(cases) cases replays.\n\n" }
    md += "\(items.count) of \(cases) cases to record"
    md += unpriced == items.count ? ", cost unknown" : ", estimated $\(NumberText.money(total))"
    if unpriced > 0 && unpriced < items.count { md += " (+ \(unpriced) unpriced)" }
    if let maxCost {
      md +=
        total <= maxCost
        ? "; --max-cost $\(NumberText.money(maxCost)) covers it" : "; over --max-cost $\(NumberText.money(maxCost))"
    }
    md += "\n\n| case | why | estimate | reason |\n|---|---|---:|---|\n"
    for i in items {
      let reason = i.reason.split(separator: "\n").first.map(String.init) ?? ""
      let cost = i.estimate.map { "$\(NumberText.money($0)) (\(i.basis ?? ""))" } ?? "unknown"
      md += "| `\(i.id)` | \(i.why.rawValue) | \(cost) | \(MarkdownText.escape(reason)) |\n"
    }
    return md + "\n"
  }

  package func json(maxCost: Double?) -> JSON {
    var o = JSONObject()
    o["cases"] = .int(cases)
    o["would_record"] = .int(items.count)
    o["estimated_cost"] = .double(total)
    o["unpriced"] = .int(unpriced)
    if let maxCost {
      o["max_cost"] = .double(maxCost)
      o["covered"] = .bool(total <= maxCost)
    }
    o["items"] = .array(
      items.map { i in
        var x = JSONObject()
        x["id"] = .string(i.id)
        x["why"] = .string(i.why.rawValue)
        x["reason"] = .string(i.reason)
        x["estimate"] = i.estimate.map(JSON.double) ?? .null
        x["basis"] = i.basis.map(JSON.string) ?? .null
        return .object(x)
      })
    return .object(o)
  }
}
