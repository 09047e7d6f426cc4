import Foundation
import LoopbackServer
import Testing

@testable import PromptCheck
@testable import PromptCheckCore

/// MCP tool sources (README "Agents: tool loops"): a stdio server started once per run, its tools
/// offered beside the test's own, its results recorded, and replay with the server gone.
@Suite struct MCPToolTests {
  static let server = TestPaths.fixtures.appendingPathComponent("mcp/orders_server.py").path

  static func config(_ args: String = "", timeout: String = "") -> String {
    """
    mcp_servers:
      orders: {command: [python3, "\(server)"\(args)]\(timeout)}
    """
  }

  static let suite = """
    defaults:
      params:
        tools:
          - type: function
            function: {name: lookup_customer, parameters: {type: object}}
    mcp: {orders: {tools: [get_order]}}
    tests:
      - name: order status
        prompt: where is A1?
        assert:
          - contains: shipped
          - tool-sequence: [get_order]
    """

  func report(_ p: Project) throws -> JSON { try JSON.parse(p.dir.read(".promptcheck/report.json")) }

  @Test(.enabled(if: pythonAvailable)) func recordsAnMCPToolAndReplaysWithTheServerGone() async throws {
    let p = try Project(suites: ["agent": Self.suite], extraConfig: Self.config(), handler: ToolLoopTests.agent)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    // The server's allowed tool is offered after the test's own.
    let offered = p.server.requests.first?.json?["tools"]?.arrayValue?.compactMap {
      $0["function"]?["name"]?.stringValue
    }
    #expect(offered == ["lookup_customer", "get_order"])
    #expect(
      p.server.requests.first?.json?["tools"]?.arrayValue?.last?["function"]?["description"]
        == "Look an order up by its id")
    #expect(try report(p)["cases"]?.arrayValue?.first?["output"] == #"Order A1: {"id": "A1", "status": "shipped"}"#)
    let cassette = try p.dir.read("expectations/cassettes/agent/order-status.yaml")
    #expect(cassette.contains("source: mcp:orders"), "\(cassette)")
    // Replay starts no server: one that cannot start changes nothing.
    try p.dir.write(
      "promptcheck.yaml",
      try p.dir.read("promptcheck.yaml").replacingOccurrences(of: Self.server, with: "/nonexistent/server.py"))
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
  }

  @Test(.enabled(if: pythonAvailable)) func aServerStartsInTheProjectOrItsCwdThere() async throws {
    let p = try Project(
      suites: ["agent": Self.suite],
      extraConfig: "mcp_servers:\n  orders: {command: [python3, orders_server.py], cwd: tools}",
      handler: ToolLoopTests.agent)
    try p.dir.write("tools/orders_server.py", String(contentsOfFile: Self.server, encoding: .utf8))
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
  }

  @Test(.enabled(if: pythonAvailable)) func oneServerProcessServesTheWholeRun() async throws {
    let p = try Project(suites: [:], extraConfig: "", handler: ToolLoopTests.agent)
    let log = p.dir.url.appendingPathComponent("mcp.log").path
    try p.dir.write(
      "promptcheck.yaml", try p.dir.read("promptcheck.yaml") + "\n" + Self.config(#", log, "\#(log)""#))
    let three =
      Self.suite + "\n" + """
          - {name: second, prompt: where is A1?}
          - {name: third, prompt: where is A1?}
        """
    try p.dir.write("prompts/agent.yaml", three)
    let r = await p.run(["--mode", "record", "--jobs", "3"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let methods = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    #expect(methods.filter { $0 == "initialize" }.count == 1)
    #expect(methods.filter { $0 == "tools/list" }.count == 1)
    #expect(methods.filter { $0 == "tools/call" }.count == 3)
  }

  @Test(.enabled(if: pythonAvailable)) func aCrashedOrHungServerErrorsTheCaseWithItsStderr() async throws {
    var p = try Project(
      suites: ["agent": Self.suite], extraConfig: Self.config(", crash"), handler: ToolLoopTests.agent)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        #"step 2: the model called get_order({"id":"A1"}): the MCP server orders exited (exit status 3); its stderr ends: orders: database unreachable"#
      ), "\(r.stdout)")
    p = try Project(
      suites: ["agent": Self.suite], extraConfig: Self.config(", hang", timeout: ", timeout_ms: 2000"),
      handler: ToolLoopTests.agent)
    r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains("the MCP server orders did not answer tools/call within 2000 ms (timeout_ms)"), "\(r.stdout)")
  }

  @Test func anUnknownServerIsALoadError() async throws {
    let p = try Project(
      suites: ["agent": Self.suite.replacingOccurrences(of: "mcp: {orders:", with: "mcp: {ordrs:")],
      extraConfig: Self.config(), handler: ToolLoopTests.agent)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 2)
    #expect(
      r.stderr.contains("prompts/agent.yaml:6:7: error: unknown MCP server 'ordrs'; did you mean 'orders'?"),
      "\(r.stderr)")
  }
}

let pythonAvailable: Bool = (try? Shell.run("python3", ["-c", "pass"]).status == 0) ?? false
