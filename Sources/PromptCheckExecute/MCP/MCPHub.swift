import Foundation
import PromptCheckCore
import Synchronization

/// The run's MCP servers (README "Agents: tool loops"): each started on first use, once per run,
/// shared by the cases that name it, stopped at the end of the run (and on Ctrl-C, when the
/// cancelled run ends). A server that failed to start, crashed or hung errors the cases that need it.
package final class MCPHub: Sendable {
  enum Entry: Sendable {
    case running(any MCPConnection, tools: [JSON])
    case failed(String)
  }

  let servers: [MCPServer]
  /// The project folder: a stdio server starts in it, or in its `cwd` taken relative to it.
  let directory: String
  /// Each server's start, begun by the first case that needs it; the others wait for the same one.
  private let entries = Mutex<[String: Task<Entry, Never>]>([:])
  /// Every connection made, to stop at the end.
  private let started = Mutex<[any MCPConnection]>([])

  package static let protocolVersion = "2025-06-18"

  package init(servers: [MCPServer], directory: String) {
    self.servers = servers
    self.directory = directory
  }

  deinit { stop() }

  /// Stops every server started.
  package func stop() {
    let all = started.withLock { s in
      defer { s = [] }
      return s
    }
    for connection in all { connection.stop() }
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

  private func entry(_ name: String) async -> Result<(connection: any MCPConnection, tools: [JSON]), ToolError> {
    let task = entries.withLock { e in
      if let t = e[name] { return t }
      let t = Task { await self.start(name) }
      e[name] = t
      return t
    }
    switch await task.value {
    case .running(let c, let tools): return .success((c, tools))
    case .failed(let message): return .failure(ToolError(message))
    }
  }

  /// Connects (spawns a stdio server), makes the `initialize` handshake and lists its tools.
  func start(_ name: String) async -> Entry {
    guard let server = servers.first(where: { $0.name == name }) else {
      return .failed("no MCP server named \(name) in mcp_servers")
    }
    let connection: any MCPConnection
    switch server.transport {
    case .stdio(let command, let env, let cwd):
      let folder = cwd.map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 } ?? directory
      switch Subprocess.spawn(command, environment: env, cwd: folder) {
      case .success(let child): connection = MCPStdioConnection(name: name, child: child, timeoutMS: server.timeoutMS)
      case .failure(let e): return .failed("the MCP server \(name) could not be started: \(e.message)")
      }
    case .http(let url):
      do {
        connection = try MCPHTTPConnection(name: name, url: url, timeoutMS: server.timeoutMS)
      } catch {
        return .failed("libcurl could not be initialised for the MCP server \(name)")
      }
    }
    started.withLock { $0.append(connection) }
    let hello: JSON = [
      "protocolVersion": .string(Self.protocolVersion), "capabilities": [:],
      "clientInfo": ["name": "promptcheck", "version": .string(promptcheckVersion)],
    ]
    if case .failure(let e) = await connection.request("initialize", hello) { return .failed(e.message) }
    if case .failure(let e) = await connection.notify("notifications/initialized") { return .failed(e.message) }
    switch await connection.request("tools/list", [:]) {
    case .failure(let e):
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
