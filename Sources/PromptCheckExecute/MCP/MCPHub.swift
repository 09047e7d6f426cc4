import Foundation
import PromptCheckCore
import Synchronization

/// The run's MCP servers (README "Agents: tool loops"): each started on first use, once per run,
/// shared by the cases that name it, stopped at the end of the run (and on Ctrl-C, when the
/// cancelled run ends). A server that failed to start, crashed or hung errors the cases that need it.
package final class MCPHub: Sendable {
  enum Entry {
    case running(MCPStdioConnection, tools: [JSON])
    case failed(String)
  }

  let servers: [MCPServer]
  let environment: [String: String]
  private let entries = Mutex<[String: Entry]>([:])
  /// Held while a server starts, so two cases do not start it twice.
  private let starting = Mutex(())

  package static let protocolVersion = "2025-06-18"

  package init(servers: [MCPServer], environment: [String: String]) {
    self.servers = servers
    self.environment = environment
  }

  deinit { stop() }

  /// Stops every server.
  package func stop() {
    let all = entries.withLock { e in
      defer { e = [:] }
      return e.values
    }
    for case .running(let connection, _) in all { connection.stop() }
  }

  /// The server's tools as the model is offered them (OpenAI `tools` entries).
  package func tools(_ name: String) async -> Result<[JSON], ToolError> {
    await entry(name).map(\.tools)
  }

  /// `tools/call`: the result's text (its text parts joined; any other part as its JSON text).
  package func call(_ server: String, tool: String, arguments: JSON) async -> Result<String, ToolError> {
    switch await entry(server) {
    case .failure(let e): return .failure(e)
    case .success(let (connection, _)):
      return await connection.request("tools/call", ["name": .string(tool), "arguments": arguments]).map { result in
        let parts = result["content"]?.arrayValue ?? []
        let text = parts.map { $0["type"] == "text" ? ($0["text"]?.stringValue ?? "") : $0.serialized() }.joined()
        return parts.isEmpty ? result.serialized() : text
      }
    }
  }

  private func entry(_ name: String) async -> Result<(connection: MCPStdioConnection, tools: [JSON]), ToolError> {
    if let found = entries.withLock({ $0[name] }) { return Self.unwrap(found) }
    let started = await withCheckedContinuation { (k: CheckedContinuation<Entry, Never>) in
      Thread {
        self.starting.withLock { _ in
          if let found = self.entries.withLock({ $0[name] }) {
            k.resume(returning: found)
            return
          }
          let entry = self.start(name)
          self.entries.withLock { $0[name] = entry }
          k.resume(returning: entry)
        }
      }.start()
    }
    return Self.unwrap(started)
  }

  static func unwrap(_ e: Entry) -> Result<(connection: MCPStdioConnection, tools: [JSON]), ToolError> {
    switch e {
    case .running(let c, let tools): .success((c, tools))
    case .failed(let message): .failure(ToolError(message))
    }
  }

  /// Spawns the server, makes the `initialize` handshake and lists its tools (blocking).
  func start(_ name: String) -> Entry {
    guard let server = servers.first(where: { $0.name == name }) else {
      return .failed("no MCP server named \(name) in mcp_servers")
    }
    guard case .stdio(let command, let env, let cwd) = server.transport else {
      return .failed("the MCP server \(name) is reached over HTTP, which this build does not speak yet")
    }
    let child: Subprocess.Child
    switch Subprocess.spawn(command, environment: env, cwd: cwd) {
    case .success(let c): child = c
    case .failure(let e): return .failed("the MCP server \(name) could not be started: \(e.message)")
    }
    let connection = MCPStdioConnection(name: name, child: child, timeoutMS: server.timeoutMS)
    let hello: JSON = [
      "protocolVersion": .string(Self.protocolVersion), "capabilities": [:],
      "clientInfo": ["name": "promptcheck", "version": .string(promptcheckVersion)],
    ]
    if case .failure(let e) = connection.requestBlocking("initialize", hello) {
      connection.stop()
      return .failed(e.message)
    }
    if case .failure(let e) = connection.notify("notifications/initialized") {
      connection.stop()
      return .failed(e.message)
    }
    switch connection.requestBlocking("tools/list", [:]) {
    case .failure(let e):
      connection.stop()
      return .failed(e.message)
    case .success(let result):
      let tools = (result["tools"]?.arrayValue ?? []).compactMap { t -> JSON? in
        guard let toolName = t["name"]?.stringValue else { return nil }
        var function = JSONObject([("name", .string(toolName))])
        if let d = t["description"] { function["description"] = d }
        function["parameters"] = t["inputSchema"] ?? ["type": "object"]
        return ["type": "function", "function": .object(function)]
      }
      return .running(connection, tools: tools)
    }
  }
}
