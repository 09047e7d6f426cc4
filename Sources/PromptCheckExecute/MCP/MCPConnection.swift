import PromptCheckCore

/// A connection to one MCP server (stdio or Streamable HTTP): JSON-RPC requests answered by id,
/// notifications, and a stop that frees what it holds.
protocol MCPConnection: Sendable {
  func request(_ method: String, _ params: JSON) async -> Result<JSON, ToolError>
  func notify(_ method: String) async -> Result<Void, ToolError>
  func stop()
}
