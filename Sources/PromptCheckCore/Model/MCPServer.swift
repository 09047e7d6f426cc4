/// One of `mcp_servers:` (README "Agents: tool loops"): an MCP server started as a child process
/// (stdio, newline-delimited JSON-RPC) or reached over Streamable HTTP.
package struct MCPServer: Sendable {
  package enum Transport: Sendable {
    /// `{command: [argv…], env: {…}, cwd: DIR}`.
    case stdio(command: [String], env: [(name: String, value: String)], cwd: String?)
    /// `{url: http(s)://…/mcp}`.
    case http(url: String)
  }

  package var name: String
  package var transport: Transport
  /// How long one request to it may take (`timeout_ms`, default 10 s).
  package var timeoutMS: Int

  package static let defaultTimeoutMS = 10_000

  package init(name: String, transport: Transport, timeoutMS: Int = defaultTimeoutMS) {
    self.name = name
    self.transport = transport
    self.timeoutMS = timeoutMS
  }
}

/// A looped test's `mcp:` entry: a server's tools offered to the model (all, or an allow list).
package struct MCPUse: Sendable {
  package var server: String
  package var tools: [String]?

  package init(server: String, tools: [String]?) {
    self.server = server
    self.tools = tools
  }
}
