import Foundation
import PromptCheckCore

/// The JSON report (README "Reports"). Cases carry extensions beyond the contract's keys
/// (`index`, `attempts`, `tolerated`, `notes`, `latency_ms`, `model`,
/// `provider`, `usage`, `reasoning`, `messages`) that `merge` and
/// `--rerun-failed` read back.
package enum JSONReport {
  package static let formatVersion = 1

  package static func render(_ report: Report) -> String {
    String(decoding: renderBytes(report), as: UTF8.self)
  }

  package static func renderBytes(_ report: Report) -> [UInt8] { Sections().render(report) }

  /// The report's cases, each written as it is reported; the head (summary, totals) when the run ends.
  struct Sections: ReportSections {
    var count = 0

    mutating func add(_ c: ReportCase, to spool: Spool) {
      _ = spool.append { out in
        out += (count == 0 ? "\n    " : ",\n    ").utf8
        writeCase(c, level: 2, into: &out)
      }
      count += 1
    }

    func assemble(_ head: ReportHead, _ totals: ReportTotals, from spool: Spool, to sink: ([UInt8]) -> Void) {
      var out: [UInt8] = []
      JSON.object(JSONReport.head(head, totals)).writePretty(to: &out, level: 0)
      // `cases` is the last member: the root's closing "\n}" comes after it.
      out.removeLast(2)
      out += ",\n  \"cases\": ".utf8
      if count == 0 {
        out += "[]\n}\n".utf8
        sink(out)
        return
      }
      out += "[".utf8
      sink(out)
      spool.copy(0..<spool.count, to: sink)
      sink(Array("\n  ]\n}\n".utf8))
    }
  }

  /// Every member of the report but its cases.
  static func head(_ report: ReportHead, _ totals: ReportTotals) -> JSONObject {
    let tally = totals.tally
    var root = JSONObject()
    root["version"] = .int(formatVersion)
    root["promptcheck"] = .string(promptcheckVersion)
    root["started_at"] = .string(iso8601(report.startedAt))
    root["duration_ms"] = .int(report.durationMS)
    root["mode"] = .string(report.mode)
    var counts = JSONObject()
    counts["passed"] = .int(tally.passed)
    counts["failed"] = .int(tally.failed)
    counts["errored"] = .int(tally.errored)
    counts["skipped"] = .int(tally.skipped)
    counts["tolerated"] = .int(tally.tolerated)
    let changed = totals.changed.count
    if changed > 0 { counts["answers_changed"] = .int(changed) }
    let usageTotals = totals.usage
    if usageTotals.cases > 0 {
      var usage = JSONObject()
      usage["prompt_tokens"] = .int(usageTotals.promptTokens)
      usage["completion_tokens"] = .int(usageTotals.completionTokens)
      usage["reasoning_tokens"] = .int(usageTotals.reasoningTokens)
      usage["cached_tokens"] = .int(usageTotals.cachedTokens)
      usage["cost"] = usageTotals.cost.map { .double($0) } ?? .null
      if usageTotals.costIsEstimated { usage["cost_estimated"] = true }
      counts["usage"] = .object(usage)
    }
    if let b = report.budget {
      counts["budget"] = .object(
        JSONObject([("max_cost", .double(b.limit)), ("spent", .double(b.spent)), ("not_sent", .int(b.notSent))]))
    }
    if let r = report.requests {
      var o = JSONObject()
      o["sent"] = .int(r.sent)
      o["rate_limited"] = .int(r.limited)
      o["waits"] = .int(r.waits)
      o["wait_s"] = .double((r.waitSeconds * 1000).rounded() / 1000)
      o["window"] = .int(r.window)
      o["jobs"] = .int(r.ceiling)
      o["rate_per_s"] = r.ratePerSecond.map { .double(($0 * 100).rounded() / 100) } ?? .null
      counts["requests"] = .object(o)
    }
    if !totals.metrics.isEmpty {
      counts["metrics"] = .object(
        JSONObject(
          totals.metrics.map { m in
            (m.name, .object(JSONObject([("passed", .int(m.passed)), ("total", .int(m.total))])))
          }))
    }
    root["summary"] = .object(counts)
    if let plan = report.plan {
      var p = JSONObject()
      p["shard"] = plan.shard.map { .string($0.text) } ?? .null
      p["cases"] = .int(plan.count)
      p["digest"] = .string(plan.digest)
      root["plan"] = .object(p)
    }
    if !report.groups.isEmpty { root["tests"] = .array(report.groups.map(groupJSON)) }
    let targets = totals.byTarget
    if !targets.isEmpty {
      root["by_target"] = .array(
        targets.map { t in
          var o = JSONObject()
          o["target"] = .string(t.target)
          o["passed"] = .int(t.tally.passed)
          o["failed"] = .int(t.tally.failed)
          o["errored"] = .int(t.tally.errored)
          o["skipped"] = .int(t.tally.skipped)
          o["pass_rate"] = t.tally.passRate.map { .double($0) } ?? .null
          o["mean_latency_ms"] = t.meanLatencyMS.map { .int($0) } ?? .null
          o["tokens"] = .int(t.usage.promptTokens + t.usage.completionTokens)
          o["cost"] = t.usage.cost.map { .double($0) } ?? .null
          return .object(o)
        })
    }
    return root
  }

  /// A repeated test's figures: samples, passes, the Wilson interval, pass@k and pass^k, the gate.
  static func groupJSON(_ g: RepeatGroup) -> JSON {
    var o = JSONObject()
    o["id"] = .string(g.id)
    o["runs"] = .int(g.runs)
    o["passes"] = .int(g.passes)
    o["planned"] = .int(g.planned)
    o["pass_rate"] = g.runs > 0 ? .double(Double(g.passes) / Double(g.runs)) : .null
    o["interval"] = .object(
      JSONObject([
        ("confidence", .double(g.confidence)), ("lower", .double(g.lower)), ("upper", .double(g.upper)),
      ]))
    o["pass_at_k"] = .bool(g.passAtK)
    o["pass_all_k"] = .bool(g.passAllK)
    o["flaky"] = .bool(g.flaky)
    if let rate = g.minPassRate { o["min_pass_rate"] = .double(rate) }
    if g.confidenceGate { o["gate"] = "wilson_lower_bound" }
    if let d = g.decision { o["sprt"] = .string(d) }
    if let met = g.met { o["met"] = .bool(met) }
    return .object(o)
  }

  static func usageJSON(_ u: ReportCase.Usage) -> JSON { ReportStep.usageJSON(u) }

  static func parseGroup(_ o: JSON) -> RepeatGroup? {
    guard let id = o["id"]?.stringValue, case .int(let runs)? = o["runs"], case .int(let passes)? = o["passes"] else {
      return nil
    }
    let planned: Int
    if case .int(let p)? = o["planned"] { planned = p } else { planned = runs }
    return RepeatGroup(
      id: id, runs: runs, passes: passes, planned: planned, minPassRate: o["min_pass_rate"]?.numberValue,
      confidence: o["interval"]?["confidence"]?.numberValue ?? 0.95,
      confidenceGate: o["gate"]?.stringValue == "wilson_lower_bound", lower: o["interval"]?["lower"]?.numberValue ?? 0,
      upper: o["interval"]?["upper"]?.numberValue ?? 1, decision: o["sprt"]?.stringValue,
      met: { if case .bool(let b)? = o["met"] { return b } else { return nil } }())
  }

  static func parsePlan(_ o: JSON?) -> PlanFingerprint? {
    guard let o, case .int(let count)? = o["cases"], let digest = o["digest"]?.stringValue else { return nil }
    return PlanFingerprint(shard: o["shard"]?.stringValue.flatMap(Shard.init(parsing:)), count: count, digest: digest)
  }

  /// A case's object, written straight into the report's text at `level`.
  static func writeCase(_ c: ReportCase, level: Int, into out: inout [UInt8]) {
    var o = PrettyObject(level: level, into: &out)
    o.string("id", c.id, &out)
    o.string("suite", c.suite, &out)
    o.string("name", c.name, &out)
    o.string("file", c.file, &out)
    o.int("line", c.line, &out)
    o.string("status", c.status.rawValue, &out)
    o.int("duration_ms", c.durationMS, &out)
    o.value("output", c.output.map { .string($0) } ?? .null, &out)
    if let e = c.error { o.string("error", e, &out) }
    o.key("assertions", &out)
    if c.assertions.isEmpty {
      out += "[]".utf8
    } else {
      out.append(UInt8(ascii: "["))
      for (n, a) in c.assertions.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        JSON.newline(&out, o.inner + 1)
        var ao = PrettyObject(level: o.inner + 1, into: &out)
        ao.string("kind", a.kind, &out)
        ao.bool("passed", a.passed, &out)
        ao.string("message", a.message, &out)
        if let line = a.line { ao.int("line", line, &out) }
        if let score = a.score { ao.double("score", score, &out) }
        if let reason = a.reason { ao.string("reason", reason, &out) }
        if let turn = a.turn { ao.int("turn", turn, &out) }
        if let metric = a.metric { ao.string("metric", metric, &out) }
        ao.end(&out)
      }
      JSON.newline(&out, o.inner)
      out.append(UInt8(ascii: "]"))
    }
    o.key("golden", &out)
    var golden = PrettyObject(level: o.inner, into: &out)
    golden.string("status", c.golden.status.rawValue, &out)
    if let p = c.golden.path { golden.string("path", p, &out) }
    if let text = c.pendingGolden { golden.string("pending", text, &out) }
    if let d = c.golden.diff { golden.string("diff", d, &out) }
    golden.end(&out)
    o.key("cassette", &out)
    var cassette = PrettyObject(level: o.inner, into: &out)
    cassette.string("path", c.cassette.path, &out)
    cassette.string("status", c.cassette.status.rawValue, &out)
    cassette.end(&out)
    o.int("index", c.index, &out)
    o.int("attempts", c.attempts, &out)
    if c.tolerated { o.bool("tolerated", true, &out) }
    if !c.notes.isEmpty { o.value("notes", .array(c.notes.map { .string($0) }), &out) }
    if let l = c.latencyMS { o.int("latency_ms", l, &out) }
    if let m = c.model { o.string("model", m, &out) }
    if let p = c.provider { o.string("provider", p, &out) }
    if let u = c.usage { o.value("usage", usageJSON(u), &out) }
    if let u = c.judgeUsage { o.value("judge_usage", usageJSON(u), &out) }
    if let score = c.score { o.double("score", score, &out) }
    if let r = c.reasoning { o.string("reasoning", r, &out) }
    o.value("messages", .array(c.messages), &out)
    if let change = c.recordedChange { o.string("recorded_change", change, &out) }
    if let col = c.column { o.string("target", col, &out) }
    if let row = c.row { o.string("row", row, &out) }
    if !c.steps.isEmpty { o.value("steps", .array(c.steps.map(\.json)), &out) }
    if !c.turns.isEmpty { o.value("turns", .array(c.turns.map(\.json)), &out) }
    if let e = c.endedBy { o.string("ended_by", e, &out) }
    if let u = c.simulatorUsage { o.value("simulator_usage", usageJSON(u), &out) }
    o.end(&out)
  }

  /// Reads a JSON report back.
  package static func parse(_ text: String, file: String) -> Result<Report, PreviousReport.ReadError> {
    guard let json = try? JSON.parse(text), let cases = json["cases"]?.arrayValue else {
      return .failure(PreviousReport.ReadError(message: "\(file) is not a promptcheck JSON report"))
    }
    var parsed: [ReportCase] = []
    for (i, c) in cases.enumerated() {
      guard let rc = ReportCase(json: c, fallbackIndex: i) else {
        return .failure(PreviousReport.ReadError(message: "\(file): case \(i) has no id or status"))
      }
      parsed.append(rc)
    }
    let started = json["started_at"]?.stringValue.flatMap(parseISO8601) ?? Date(timeIntervalSince1970: 0)
    let duration: Int
    if case .int(let d)? = json["duration_ms"] { duration = d } else { duration = 0 }
    var report = Report(
      startedAt: started, durationMS: duration, mode: json["mode"]?.stringValue ?? "replay", cases: parsed)
    report.groups = (json["tests"]?.arrayValue ?? []).compactMap(parseGroup)
    report.plan = parsePlan(json["plan"])
    if let b = json["summary"]?["budget"], let limit = b["max_cost"]?.numberValue, let spent = b["spent"]?.numberValue,
      case .int(let notSent)? = b["not_sent"]
    {
      report.budget = BudgetReport(limit: limit, spent: spent, notSent: notSent)
    }
    return .success(report)
  }

  static func iso8601(_ d: Date) -> String { UTCTime.formatter(UTCTime.milliseconds).string(from: d) }
  static func parseISO8601(_ s: String) -> Date? { UTCTime.formatter(UTCTime.milliseconds).date(from: s) }
}
