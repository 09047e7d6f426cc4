import Foundation
import LoopbackServer
import Testing

@testable import PromptCheck
@testable import PromptCheckCore

let mcpSDKAvailable: Bool = (try? Shell.run("python3", ["-c", "import mcp"]).status == 0) ?? false
let mcpServerTimeAvailable: Bool = (try? Shell.run("sh", ["-c", "command -v mcp-server-time"]).status == 0) ?? false

/// MCP against real servers (README "Agents: tool loops"): a server written with the official
/// `mcp` Python SDK, and the reference server `mcp-server-time`; each recorded once, then replayed
/// with it absent (`.ci/run` installs both).
@Suite struct MCPPeerTests {
  /// Calls `tool` with `arguments` first; given a tool's result, answers with it.
  static func agent(_ tool: String, _ arguments: String)
    -> @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply
  {
    { request, _ in
      let last = request.json?["messages"]?.arrayValue?.last
      if last?["role"] == "tool" {
        return .json(FakeOpenAI.completion("Result: " + (last?["content"]?.stringValue ?? "")))
      }
      return .json(FakeOpenAI.toolCalls([(tool, arguments)]))
    }
  }

  /// Records the suite with `server` as the MCP server `peer`, then replays it with the server's
  /// command broken and the model server gone: the verdicts are the same.
  func recordThenReplayWithoutIt(
    _ command: String, tool: String, arguments: String, asserts: String, server: String? = nil,
    broken: String = "[/nonexistent/mcp-server]", stop: () -> Void = {}
  ) async throws -> JSON {
    let suite = """
      mcp: [peer]
      tests:
        - name: uses the peer
          prompt: go
          assert:
      \(asserts)
      """
    let p = try Project(
      suites: ["peer": suite], extraConfig: "mcp_servers:\n  peer: \(server ?? "{command: \(command)}")",
      handler: Self.agent(tool, arguments))
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let recorded = try JSON.parse(p.dir.read(".promptcheck/report.json"))["cases"]?.arrayValue?.first
    #expect(try p.dir.read("expectations/cassettes/peer/uses-the-peer.yaml").contains("source: mcp:peer"))
    try p.dir.write(
      "promptcheck.yaml",
      try p.dir.read("promptcheck.yaml").replacingOccurrences(of: command, with: broken))
    stop()
    p.server.stop()
    r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let replayed = try JSON.parse(p.dir.read(".promptcheck/report.json"))["cases"]?.arrayValue?.first
    #expect(replayed?["assertions"] == recorded?["assertions"])
    #expect(replayed?["output"] == recorded?["output"])
    return replayed ?? .null
  }

  @Test(.enabled(if: mcpSDKAvailable)) func aServerWrittenWithTheOfficialSDKOverStdio() async throws {
    let server = TestPaths.fixtures.appendingPathComponent("mcp/sdk_server.py").path
    let c = try await recordThenReplayWithoutIt(
      #"[python3, "\#(server)"]"#, tool: "get_order", arguments: #"{"id":"A1"}"#,
      asserts: "      - contains: '\"by\": \"sdk\"'\n      - tool-used: get_order")
    #expect(c["output"]?.stringValue?.contains(#""status": "shipped""#) == true, "\(c)")
  }

  @Test(.enabled(if: mcpServerTimeAvailable)) func theReferenceTimeServer() async throws {
    let c = try await recordThenReplayWithoutIt(
      "[mcp-server-time, --local-timezone, UTC]", tool: "get_current_time", arguments: #"{"timezone":"UTC"}"#,
      asserts: "      - contains: '\"timezone\": \"UTC\"'\n      - tool-sequence: [get_current_time]")
    #expect(c["steps"]?.arrayValue?[1]["source"] == "mcp:peer")
  }

  @Test(.enabled(if: mcpSDKAvailable)) func aServerWrittenWithTheOfficialSDKOverStreamableHTTP() async throws {
    let script = TestPaths.fixtures.appendingPathComponent("mcp/sdk_server.py").path
    // A free port: the kernel's choice for a socket bound and closed at once.
    let found = try await Shell.run(
      "python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    let port = try #require(Int(found.output.trimmingCharacters(in: .whitespacesAndNewlines)))
    // Killed with its group when the test ends (Background's deinit), should it still run.
    let process = try Background(["python3", script, "http", String(port)])
    let url = "http://127.0.0.1:\(port)/mcp"
    #expect(
      await eventually(15) {
        (try? Shell.run("python3", ["-c", "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"]).status)
          == 0
      })
    let c = try await recordThenReplayWithoutIt(
      url, tool: "get_order", arguments: #"{"id":"A1"}"#,
      asserts: "      - contains: '\"by\": \"sdk\"'\n      - tool-used: get_order", server: "{url: \(url)}",
      broken: "http://127.0.0.1:9/mcp",
      stop: {
        // Killed, not asked: uvicorn's graceful stop waits for open keep-alive connections.
        kill(process.pid, SIGKILL)
        _ = process.waitForExit()
      })
    #expect(c["steps"]?.arrayValue?[1]["source"] == "mcp:peer")
  }
}
