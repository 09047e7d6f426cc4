import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckLoad
import PromptCheckReport
import PromptCheckServe
import Synchronization

/// `promptcheck view` (README "The local loop"): a page on the loopback over the JSON reports —
/// the grid, filters, each answer with its diff, the judges' scores, trajectories and
/// transcripts — updated live as runs write the reports; accept and label are POSTs that carry
/// the session's token.
package enum ViewCommandCore {
  package struct Options: Sendable {
    package var port = 8787
    /// The reports shown; the first is the current one, a second is the base "changed" compares with.
    package var reports: [String] = []
    package var configPath: String?
    package init() {}
  }

  /// A report read from disk, kept until its file changes.
  struct Loaded: Sendable {
    var path: String
    var modified: Double
    var json: JSON
    /// Cases by id, and in report order.
    var byID: [String: Int]
    var cases: [JSON]
  }

  /// The viewed reports, reread when their files change.
  final class Reports: Sendable {
    let paths: [String]
    let ctx: CommandContext
    let state = Mutex<[String: Loaded]>([:])

    init(paths: [String], ctx: CommandContext) {
      self.paths = paths
      self.ctx = ctx
    }

    static func modified(_ path: String) -> Double? {
      var st = stat()
      guard stat(path, &st) == 0 else { return nil }
      return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    /// The report at `path` as it is now on disk (nil when it is missing or not a report).
    func load(_ path: String) -> Loaded? {
      let absolute = ctx.absolute(path)
      guard let m = Self.modified(absolute) else { return nil }
      if let cached = state.withLock({ $0[path] }), cached.modified == m { return cached }
      guard let data = FileManager.default.contents(atPath: absolute), data.count <= 512 << 20,
        let json = try? JSON.parse(bytes: Array(data)), let cases = json["cases"]?.arrayValue
      else { return nil }
      var byID: [String: Int] = [:]
      for (i, c) in cases.enumerated() { if let id = c["id"]?.stringValue { byID[id] = i } }
      let loaded = Loaded(path: path, modified: m, json: json, byID: byID, cases: cases)
      state.withLock { $0[path] = loaded }
      return loaded
    }

    var current: Loaded? { paths.first.flatMap(load) }
    var base: Loaded? { paths.count > 1 ? load(paths[1]) : nil }
    /// A stamp that changes when any report changes (for the page's live updates).
    var stamp: String { paths.map { Self.modified(ctx.absolute($0)).map { String($0) } ?? "-" }.joined(separator: ",") }
  }

  /// The running page: stop it to end `view`.
  package final class Server: Sendable {
    package let http: HTTPServer
    package let token: String
    let stopped = Atomic<Bool>(false)
    init(http: HTTPServer, token: String) {
      self.http = http
      self.token = token
    }
    package var port: Int { http.port }
    package func stop() {
      stopped.store(true, ordering: .sequentiallyConsistent)
      http.stop()
    }
  }

  /// Starts the page; nil after printing why it cannot.
  package static func start(_ o: Options, _ ctx: CommandContext) -> Server? {
    guard let config = ProjectLoader.loadConfigOrReport(configPath: o.configPath, ctx) else { return nil }
    let labels = LabelStore(root: config.expectationsDir + "/labels", project: ctx.project)
    let paths = o.reports.isEmpty ? [".promptcheck/report.json"] : o.reports
    let reports = Reports(paths: paths, ctx: ctx)
    var random = SystemRandomNumberGenerator()
    let token = (0..<4).map { _ in FNV1a.hex(random.next()) }.joined()
    let box = Mutex<Server?>(nil)
    let http: HTTPServer
    do {
      var limits = HTTPServer.Limits()
      limits.maxBody = 64 << 10
      limits.maxConnections = 32
      http = try HTTPServer(host: "127.0.0.1", port: o.port, limits: limits, log: { ctx.err($0) }) { request in
        let server = box.withLock { $0 }
        return handle(
          request, reports: reports, labels: labels, token: token, port: server?.port ?? o.port, o, ctx
        ) {
          server?.stopped.load(ordering: .sequentiallyConsistent) ?? false
        }
      }
    } catch {
      ctx.report(Diagnostic("\(error)", at: nil))
      return nil
    }
    let server = Server(http: http, token: token)
    box.withLock { $0 = server }
    // The reports are read now, so the first page is served from memory.
    _ = reports.current
    _ = reports.base
    ctx.err("viewing \(paths.joined(separator: ", ")) on http://127.0.0.1:\(http.port)/ ; Ctrl-C stops\n")
    return server
  }

  /// The query of a path (`/api/cases?status=failed&q=x`), percent-decoded.
  static func query(_ path: String) -> [String: String] {
    guard let q = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
    var out: [String: String] = [:]
    for pair in q.split(separator: "&") {
      let kv = pair.split(separator: "=", maxSplits: 1).map {
        String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
      }
      if let k = kv.first { out[k] = kv.count > 1 ? kv[1] : "" }
    }
    return out
  }

  static func json(_ value: JSON, status: Int = 200) -> HTTPServer.Response {
    var r = HTTPServer.Response.json(value, status: status)
    r.headers.append(("Cache-Control", "no-store"))
    return r
  }

  static func problem(_ message: String, status: Int) -> HTTPServer.Response {
    json(.object(JSONObject([("error", .string(message))])), status: status)
  }

  /// One request. `isStopped` ends a live-update stream when the page stops.
  static func handle(
    _ r: HTTPServer.Request, reports: Reports, labels: LabelStore, token: String, port: Int, _ o: Options,
    _ ctx: CommandContext,
    isStopped: @escaping @Sendable () -> Bool
  ) -> HTTPServer.Response {
    // Only this machine's own names: a page elsewhere that resolves its name here (DNS
    // rebinding) is refused.
    let host = r.headers["host"] ?? ""
    guard host == "127.0.0.1:\(port)" || host == "localhost:\(port)" else {
      return problem("the Host must be 127.0.0.1:\(port) or localhost:\(port)", status: 421)
    }
    let path = r.path.split(separator: "?").first.map(String.init) ?? r.path
    let q = query(r.path)
    switch (r.method, path) {
    case ("GET", "/"):
      var page = HTTPServer.Response(
        status: 200, headers: [("Content-Type", "text/html; charset=utf-8")],
        body: Array(ViewPage.html(token: token).utf8))
      page.headers += [
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'"),
        ("X-Frame-Options", "DENY"),
      ]
      return page
    case ("GET", "/api/summary"):
      return summary(reports)
    case ("GET", "/api/cases"):
      return cases(reports, q)
    case ("GET", "/api/case"):
      return caseDetail(reports, id: q["id"] ?? "", labels: labels)
    case ("GET", "/events"):
      return events(reports, isStopped: isStopped)
    case ("POST", "/api/accept"), ("POST", "/api/label"):
      // A write needs the session's token in a header (a cross-site form cannot send one) and,
      // when the browser says where it comes from, this page's origin.
      guard r.headers["x-promptcheck-token"] == token else {
        return problem("this request needs the page's token (X-PromptCheck-Token)", status: 403)
      }
      if let origin = r.headers["origin"], origin != "http://127.0.0.1:\(port)" && origin != "http://localhost:\(port)"
      {
        return problem("requests from \(origin) are refused", status: 403)
      }
      guard let body = try? JSON.parse(bytes: r.body), let id = body["id"]?.stringValue else {
        return problem("the body must be JSON with an id", status: 400)
      }
      return path == "/api/accept" ? accept(id: id, o, ctx) : label(id: id, body, reports, o, ctx)
    default:
      return problem("\(r.method) \(path) is not served", status: 404)
    }
  }

  static func summary(_ reports: Reports) -> HTTPServer.Response {
    guard let current = reports.current else {
      return problem("\(reports.paths[0]) is missing or not a JSON report: run the suites first", status: 404)
    }
    var suites = Set<String>()
    var targets = Set<String>()
    var tags = Set<String>()
    for c in current.cases {
      if let s = c["suite"]?.stringValue { suites.insert(s) }
      if let t = c["target"]?.stringValue { targets.insert(t) }
      for t in c["tags"]?.arrayValue ?? [] { if let s = t.stringValue { tags.insert(s) } }
    }
    var o = JSONObject()
    o["reports"] = .array(reports.paths.map(JSON.string))
    o["summary"] = current.json["summary"] ?? .null
    o["total"] = .int(current.cases.count)
    o["suites"] = .array(suites.sorted().map(JSON.string))
    o["targets"] = .array(targets.sorted().map(JSON.string))
    o["tags"] = .array(tags.sorted().map(JSON.string))
    o["stamp"] = .string(reports.stamp)
    return json(.object(o))
  }

  /// Whether a case's answer changed: against the base report, or as the run recorded it.
  static func changed(_ c: JSON, base: Loaded?) -> Bool {
    if c["recorded_change"] != nil { return true }
    guard let base, let id = c["id"]?.stringValue, let i = base.byID[id] else { return false }
    return base.cases[i]["output"] != c["output"]
  }

  /// A page of the grid: rows (a test, or a comparison's row) with a cell per target.
  static func cases(_ reports: Reports, _ q: [String: String]) -> HTTPServer.Response {
    guard let current = reports.current else { return problem("no report", status: 404) }
    let base = reports.base
    let offset = max(0, Int(q["offset"] ?? "") ?? 0)
    let limit = min(500, max(1, Int(q["limit"] ?? "") ?? 100))
    let status = q["status"] ?? ""
    let suite = q["suite"] ?? ""
    let target = q["target"] ?? ""
    let tag = q["tag"] ?? ""
    let text = (q["q"] ?? "").lowercased()
    var rows: [(key: String, cells: [JSON])] = []
    var index: [String: Int] = [:]
    for c in current.cases {
      let id = c["id"]?.stringValue ?? ""
      let st = c["status"]?.stringValue ?? ""
      if !suite.isEmpty && c["suite"]?.stringValue != suite { continue }
      if !target.isEmpty && c["target"]?.stringValue != target { continue }
      if !tag.isEmpty && !(c["tags"]?.arrayValue ?? []).contains(.string(tag)) { continue }
      if !text.isEmpty && !id.lowercased().contains(text) { continue }
      let isChanged = changed(c, base: base)
      switch status {
      case "failed" where st != "failed" && st != "errored": continue
      case "changed" where !isChanged: continue
      case "pending" where c["golden"]?["pending"] == nil: continue
      default: break
      }
      let key = c["row"]?.stringValue ?? id
      var cell = JSONObject()
      cell["id"] = .string(id)
      cell["status"] = .string(st)
      cell["target"] = c["target"] ?? .null
      cell["duration_ms"] = c["duration_ms"] ?? .null
      cell["changed"] = .bool(isChanged)
      cell["pending"] = .bool(c["golden"]?["pending"] != nil)
      let first =
        c["error"]?.stringValue
        ?? c["assertions"]?.arrayValue?.first(where: { $0["passed"] == false })?["message"]?.stringValue ?? ""
      cell["message"] = .string(first.count > 160 ? String(first.prefix(160)) + "…" : first)
      if let i = index[key] {
        rows[i].cells.append(.object(cell))
      } else {
        index[key] = rows.count
        rows.append((key, [.object(cell)]))
      }
    }
    var o = JSONObject()
    o["total"] = .int(rows.count)
    o["offset"] = .int(offset)
    o["rows"] = .array(
      rows.dropFirst(offset).prefix(limit).map { row in
        .object(JSONObject([("key", .string(row.key)), ("cells", .array(row.cells))]))
      })
    return json(.object(o))
  }

  static func caseDetail(_ reports: Reports, id: String, labels store: LabelStore) -> HTTPServer.Response {
    guard let current = reports.current, let i = current.byID[id] else {
      return problem("no case '\(id)' in the report", status: 404)
    }
    let c = current.cases[i]
    var out = JSONObject()
    out["case"] = c
    let output = c["output"]?.stringValue ?? ""
    if let base = reports.base, let j = base.byID[id], let before = base.cases[j]["output"]?.stringValue,
      before != output
    {
      out["base_diff"] = .string(
        UnifiedDiff.diff(old: before, new: output, oldName: base.path, newName: current.path))
    }
    if case .success(let labels) = store.load(suite: c["suite"]?.stringValue ?? "") {
      out["labels"] = .array(
        labels.filter { $0.caseID == id }.map { l in
          var o = JSONObject()
          o["assert"] = l.assertion.map(JSON.int) ?? .null
          o["label"] = .string(l.verdict.rawValue)
          o["note"] = l.note.map(JSON.string) ?? .null
          o["by"] = l.by.map(JSON.string) ?? .null
          o["stale"] = .bool(l.answer != Label.answerHash(output))
          return .object(o)
        })
    }
    return json(.object(out))
  }

  static func accept(id: String, _ o: Options, _ ctx: CommandContext) -> HTTPServer.Response {
    let captured = ctx.capturing()
    let status = GoldenCommandsCore.accept(filters: [id], configPath: o.configPath, ctx: captured.ctx)
    let said = captured.text()
    guard status == .ok, said.contains("accepted ") else {
      return problem(said.isEmpty ? "nothing to accept for \(id)" : said, status: status == .ok ? 404 : 500)
    }
    return json(.object(JSONObject([("ok", true), ("message", .string(said))])))
  }

  static func label(id: String, _ body: JSON, _ reports: Reports, _ o: Options, _ ctx: CommandContext)
    -> HTTPServer.Response
  {
    guard let verdict = body["label"]?.stringValue.flatMap(Label.Verdict.init(rawValue:)) else {
      return problem("label must be pass or fail", status: 400)
    }
    var l = LabelCommandsCore.LabelOptions()
    l.caseID = id
    l.verdict = verdict
    if case .int(let n)? = body["assert"] { l.assertion = n }
    l.note = body["note"]?.stringValue.flatMap { $0.isEmpty ? nil : String($0.prefix(2000)) }
    l.report = reports.paths[0]
    l.configPath = o.configPath
    let captured = ctx.capturing()
    let status = LabelCommandsCore.label(l, captured.ctx)
    let said = captured.text()
    guard status == .ok else { return problem(said, status: status == .invalid ? 400 : 500) }
    return json(.object(JSONObject([("ok", true), ("message", .string(said))])))
  }

  /// Server-sent events: `report` each time a viewed report's file changes; a comment every 15 s
  /// keeps the connection; the stream ends after 5 minutes (the page reconnects) or when `view` stops.
  static func events(_ reports: Reports, isStopped: @escaping @Sendable () -> Bool) -> HTTPServer.Response {
    let relay = HTTPServer.Relay()
    relay.send(
      .head(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")]))
    relay.send(.piece(Array("retry: 1000\n\n".utf8)))
    Thread.detachNewThread {
      var last = reports.stamp
      let clock = ContinuousClock()
      let end = clock.now.advanced(by: .seconds(300))
      var quiet = 0
      while clock.now < end && !isStopped() {
        Thread.sleep(forTimeInterval: 0.2)
        let now = reports.stamp
        quiet += 1
        if now != last {
          last = now
          quiet = 0
          relay.send(.piece(Array("event: report\ndata: \(now)\n\n".utf8)))
        } else if quiet >= 75 {
          quiet = 0
          relay.send(.piece(Array(": still here\n\n".utf8)))
        }
      }
      relay.send(.end)
    }
    return .relayed(relay)
  }
}
