import Foundation
import PromptCheckCore
import Synchronization

/// An MCP server over Streamable HTTP (README "Agents: tool loops"), through libcurl: each
/// JSON-RPC message POSTed to the server's URL; the answer is a JSON body or an event stream
/// whose events carry it. The session id the server gives on `initialize` goes with every later
/// request, with the negotiated protocol version.
final class MCPHTTPConnection: MCPConnection {
  struct State {
    var nextID = 1
    var session: String?
    var protocolVersion: String?
  }

  let name: String
  let url: String
  let timeoutMS: Int
  let transport: CurlTransport
  private let state = Mutex(State())

  static let maxBody = 16 * 1024 * 1024

  init(name: String, url: String, timeoutMS: Int) throws {
    self.name = name
    self.url = url
    self.timeoutMS = timeoutMS
    transport = try CurlTransport()
  }

  func stop() {}

  func headers() -> [(name: String, value: String)] {
    let s = state.withLock { $0 }
    var h: [(name: String, value: String)] = [
      ("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream"),
    ]
    if let v = s.protocolVersion { h.append(("MCP-Protocol-Version", v)) }
    if let id = s.session { h.append(("Mcp-Session-Id", id)) }
    return h
  }

  func post(_ message: JSON) async -> Result<HTTPResponse, ToolError> {
    var request = HTTPRequest(
      url: url, headers: headers(), body: Array(message.serialized().utf8), timeout: Double(timeoutMS) / 1000)
    request.maxResponseBytes = Self.maxBody
    do {
      let response = try await transport.send(request)
      guard (200..<300).contains(response.status) else {
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        return .failure(
          ToolError("the MCP server \(name) answered HTTP \(response.status)" + (text.isEmpty ? "" : ": \(text)")))
      }
      return .success(response)
    } catch {
      return .failure(ToolError("the MCP server \(name) at \(url) could not be reached: \(error)"))
    }
  }

  func notify(_ method: String) async -> Result<Void, ToolError> {
    await post(["jsonrpc": "2.0", "method": .string(method)]).map { _ in () }
  }

  func request(_ method: String, _ params: JSON) async -> Result<JSON, ToolError> {
    let id = state.withLock { s in
      defer { s.nextID += 1 }
      return s.nextID
    }
    let message: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
    let response: HTTPResponse
    switch await post(message) {
    case .failure(let e): return .failure(e)
    case .success(let r): response = r
    }
    if method == "initialize", let session = response.headers.first(where: { $0.name == "mcp-session-id" })?.value {
      state.withLock { $0.session = session }
    }
    let type = response.headers.first { $0.name == "content-type" }?.value ?? ""
    let text = String(decoding: response.body, as: UTF8.self)
    let candidates: [JSON]
    if type.hasPrefix("text/event-stream") {
      candidates = ServerSentEvents.parse(text).compactMap { try? JSON.parse($0.data) }
    } else {
      candidates = (try? JSON.parse(text)).map { [$0] } ?? []
    }
    guard let reply = candidates.first(where: { $0["id"] == .int(id) }) else {
      return .failure(ToolError("the MCP server \(name) sent no answer to \(method)"))
    }
    if let error = reply["error"], error != .null {
      let message = error["message"]?.stringValue ?? error.serialized()
      return .failure(ToolError("the MCP server \(name) answered \(method) with an error: \(message)"))
    }
    let result = reply["result"] ?? .null
    if method == "initialize" {
      let version = result["protocolVersion"]?.stringValue ?? MCPHub.protocolVersion
      state.withLock { $0.protocolVersion = version }
    }
    return .success(result)
  }
}
