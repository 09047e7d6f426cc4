import Foundation

/// The JSON report (spec §9). Cases carry a few extensions (`attempts`,
/// `tolerated`, `notes`, `model`, `usage`, `latency_ms`) that `merge` and
/// `--rerun-failed` read back.
public enum JSONReport {
  public static let formatVersion = 1

  public static func render(_ summary: RunSummary) -> String {
    var root = JSONObject()
    root["version"] = .int(formatVersion)
    root["promptcheck"] = .string(promptcheckVersion)
    root["started_at"] = .string(iso8601(summary.startedAt))
    root["duration_ms"] = .int(summary.durationMS)
    root["mode"] = .string(summary.mode.rawValue)
    var counts = JSONObject()
    counts["passed"] = .int(summary.passed)
    counts["failed"] = .int(summary.failed)
    counts["errored"] = .int(summary.errored)
    counts["skipped"] = .int(summary.skipped)
    counts["tolerated"] = .int(summary.tolerated)
    root["summary"] = .object(counts)
    root["cases"] = .array(summary.results.map(caseJSON))
    return JSON.object(root).prettyPrinted(keys: .asWritten) + "\n"
  }

  static func caseJSON(_ r: CaseResult) -> JSON {
    let c = r.plannedCase
    var o = JSONObject()
    o["id"] = .string(c.id)
    o["suite"] = .string(c.suite)
    o["name"] = .string(c.testName)
    o["file"] = .string(c.suiteFile)
    o["line"] = .int(c.location.line)
    o["status"] = .string(r.status.rawValue)
    o["duration_ms"] = .int(r.durationMS)
    o["output"] = r.completion.map { .string($0.content) } ?? .null
    if let e = r.error { o["error"] = .string(e) }
    o["assertions"] = .array(r.findings.map { f in
      ["kind": .string(f.kind), "passed": .bool(f.passed), "message": .string(f.description)]
    })
    var golden = JSONObject()
    golden["status"] = .string(r.golden.status.rawValue)
    if let p = r.golden.path { golden["path"] = .string(p) }
    if let d = r.golden.diff { golden["diff"] = .string(d) }
    o["golden"] = .object(golden)
    o["cassette"] = ["path": .string(r.cassette.path), "status": .string(r.cassette.status.rawValue)]
    o["attempts"] = .int(r.attempts)
    if r.tolerated { o["tolerated"] = true }
    if !r.notes.isEmpty { o["notes"] = .array(r.notes.map { .string($0) }) }
    if let comp = r.completion {
      o["latency_ms"] = .int(comp.latencyMS)
      if let m = comp.model { o["model"] = .string(m) }
      if let u = comp.usage {
        var usage = JSONObject()
        if let v = u.promptTokens { usage["prompt_tokens"] = .int(v) }
        if let v = u.completionTokens { usage["completion_tokens"] = .int(v) }
        if let v = u.totalTokens { usage["total_tokens"] = .int(v) }
        if let v = u.cost { usage["cost"] = .double(v) }
        o["usage"] = .object(usage)
      }
    }
    return .object(o)
  }

  static func iso8601(_ d: Date) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    return f.string(from: d)
  }
}
