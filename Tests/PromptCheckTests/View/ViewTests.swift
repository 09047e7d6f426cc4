import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckExecute
@testable import PromptCheckServe

/// Selenium for Python, where it is installed (.ci/run installs it from PyPI), with Chromium's driver.
let seleniumAvailable: Bool =
  FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
  && ((try? Shell.run("python3", ["-c", "import selenium"]).status == 0) ?? false)

/// `promptcheck view` over a recorded project: its API and its refusals from a client, its page in
/// a real browser.
@Suite(.serialized) struct ViewTests {
  static let suite = """
    tests:
      - name: greets
        prompt: hello
        golden: true
      - name: refuses
        prompt: nothing
        assert: [{contains: "never said"}]
      - name: judged
        prompt: Paris
        assert:
          - {llm-rubric: The answer names a city, weight: 0}
    """

  /// A project recorded against the loopback server: `greets` has a pending golden, `refuses` fails.
  static func project() async throws -> Project {
    let p = try Project(suites: ["v": suite], handler: JudgeServer().handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(p.dir.exists("expectations/golden/v/greets.txt.new"))
    return p
  }

  static func start(_ p: Project) throws -> ViewCommandCore.Server {
    var o = ViewCommandCore.Options()
    o.port = 0
    let ctx = CommandContext(
      environment: ["USER": "tester"], directory: p.dir.url.path, stdoutIsTTY: false, out: { _ in }, err: { _ in })
    return try #require(ViewCommandCore.start(o, ctx))
  }

  func send(
    _ server: ViewCommandCore.Server, _ method: String, _ path: String, body: String = "",
    headers: [(String, String)] = []
  ) async throws -> (status: Int, body: String) {
    let t = try CurlTransport()
    let r = try await t.send(
      HTTPRequest(
        method: method, url: "http://127.0.0.1:\(server.port)\(path)",
        headers: [(name: "Content-Type", value: "application/json")] + headers.map { (name: $0.0, value: $0.1) },
        body: Array(body.utf8), timeout: 10))
    return (r.status, String(decoding: r.body, as: UTF8.self))
  }

  @Test func theAPIServesPagesAndRefusesWritesWithoutTheToken() async throws {
    let p = try await Self.project()
    let server = try Self.start(p)
    defer { server.stop() }
    let page = try await send(server, "GET", "/")
    #expect(page.status == 200)
    #expect(page.body.contains("<meta name=\"pc-token\" content=\"\(server.token)\">"))
    #expect(!page.body.contains("http://") && !page.body.contains("https://"), "no CDN: the page works offline")
    let rows = try JSON.parse(try await send(server, "GET", "/api/cases?status=failed").body)
    #expect(rows["total"] == 2, "refuses fails; greets has a pending golden")
    let paged = try JSON.parse(try await send(server, "GET", "/api/cases?limit=1&offset=1").body)
    #expect(paged["total"] == 3)
    #expect(paged["rows"]?.arrayValue?.count == 1)
    let detail = try JSON.parse(try await send(server, "GET", "/api/case?id=v/judged").body)
    #expect(detail["case"]?["assertions"]?.arrayValue?.first?["kind"] == "llm-rubric")

    // Without the token, with a wrong one, from another origin, or another Host: refused, nothing written.
    let body = #"{"id": "v/greets"}"#
    #expect(try await send(server, "POST", "/api/accept", body: body).status == 403)
    #expect(
      try await send(server, "POST", "/api/accept", body: body, headers: [("X-PromptCheck-Token", "guess")]).status
        == 403)
    let foreign = try await send(
      server, "POST", "/api/accept", body: body,
      headers: [("X-PromptCheck-Token", server.token), ("Origin", "https://evil.example")])
    #expect(foreign.status == 403)
    #expect(foreign.body.contains("requests from https://evil.example are refused"))
    let rebound = try await send(server, "GET", "/api/summary", headers: [("Host", "evil.example:\(server.port)")])
    #expect(rebound.status == 421)
    #expect(!p.dir.exists("expectations/golden/v/greets.txt"))

    // With the token: accepted, and labelled.
    let ok = try await send(server, "POST", "/api/accept", body: body, headers: [("X-PromptCheck-Token", server.token)])
    #expect(ok.status == 200, "\(ok.body)")
    #expect(p.dir.exists("expectations/golden/v/greets.txt"))
    let labelled = try await send(
      server, "POST", "/api/label", body: #"{"id": "v/judged", "assert": 0, "label": "pass", "note": "fine"}"#,
      headers: [("X-PromptCheck-Token", server.token)])
    #expect(labelled.status == 200, "\(labelled.body)")
    #expect(
      try p.dir.read("expectations/labels/v.yaml").contains(
        "case: v/judged\n  assert: 0\n  label: pass\n  note: fine\n  by: "))
    let bad = try await send(
      server, "POST", "/api/label", body: #"{"id": "v/judged", "label": "maybe"}"#,
      headers: [("X-PromptCheck-Token", server.token)])
    #expect(bad.status == 400)
    #expect(try await send(server, "GET", "/nothing").status == 404)
  }

  @Test func theEventsSayWhenTheReportChanges() async throws {
    let p = try await Self.project()
    let server = try Self.start(p)
    defer { server.stop() }
    let t = try CurlTransport()
    // The stream stays open: the client reads what came for 3 s, then leaves.
    var request = HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/events", timeout: 3)
    let seen = SeenPieces()
    request.onData = { piece in seen.add(piece.bytes) }
    async let stream = t.send(request)
    try await Task.sleep(for: .milliseconds(500))
    #expect(!seen.text.contains("event: report"))
    // A run writes the report again.
    #expect(await p.run(["--mode", "replay"]).status == 1)
    _ = try? await stream
    #expect(seen.text.hasPrefix("retry: 1000\n\n"), "\(seen.text)")
    #expect(seen.text.contains("event: report\ndata: "), "\(seen.text)")
  }

  @Test(.enabled(if: chromium != nil && seleniumAvailable, "Chromium, chromedriver or selenium is not installed"))
  func aBrowserFiltersAcceptsAndLabels() async throws {
    let p = try await Self.project()
    let server = try Self.start(p)
    defer { server.stop() }
    let shots = ProcessInfo.processInfo.environment["PROMPTCHECK_SCREENSHOTS"] ?? p.dir.url.path
    let script = TestPaths.packageRoot.appendingPathComponent("Tests/browser/view_check.py").path
    let r = try await Shell.run(
      "python3", [script, "http://127.0.0.1:\(server.port)/", shots, "v/greets", "v/judged", "2"])
    #expect(r.status == 0, "\(r.output)")
    #expect(r.output.contains("failed filter: 2 cells"), "\(r.output)")
    #expect(r.output.contains("accept: accepted expectations/golden/v/greets.txt"), "\(r.output)")
    #expect(r.output.contains("label: labelled v/judged fail in expectations/labels/v.yaml"), "\(r.output)")
    #expect(p.dir.exists("expectations/golden/v/greets.txt"), "the golden file is written")
    let labels = try p.dir.read("expectations/labels/v.yaml")
    #expect(labels.contains("case: v/judged\n  label: fail\n  note: too curt\n"), "\(labels)")
    for shot in ["grid.png", "diff.png", "label.png"] {
      #expect(FileManager.default.fileExists(atPath: shots + "/" + shot))
    }
  }
}

/// The pieces of a body as they arrive.
final class SeenPieces: Sendable {
  let bytes = Mutex<[UInt8]>([])
  func add(_ b: [UInt8]) { bytes.withLock { $0 += b } }
  var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}
