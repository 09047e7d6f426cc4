import Foundation
import PromptCheckCore
import PromptCheckExecute
import Synchronization

/// The loopback OpenAI-compatible endpoint an app under test is given for its own model calls
/// (README "Testing your app"): `/c/TOKEN/v1/…` for one case's app, `/t/TARGET/v1/…` for a
/// started app (the case running now). Chat completions (JSON or an event stream) and
/// embeddings, forwarded and recorded, or answered from the cassette; a call the cassette lacks
/// answers 404 with the diagnosis, which also errors the case.
package final class AppProxy: AppEndpoint {
  /// The open cases' logs by token, and the case each started app's target runs now.
  final class Sessions: Sendable {
    let logs = Mutex<[String: AppCallLog]>([:])
    let current = Mutex<[String: String]>([:])
  }

  private let server: HTTPServer
  private let sessions = Sessions()

  package init() throws(HTTPServer.StartError) {
    let sessions = self.sessions
    server = try HTTPServer(host: "127.0.0.1", port: 0) { r in Self.handle(r, sessions) }
  }

  deinit { server.stop() }

  package func stop() { server.stop() }

  var root: String { "http://127.0.0.1:\(server.port)" }

  package func open(_ token: String, _ log: AppCallLog) -> String {
    sessions.logs.withLock { $0[token] = log }
    return root + "/c/\(token)/v1"
  }

  package func close(_ token: String) { sessions.logs.withLock { $0[token] = nil } }

  package func shared(_ target: String) -> String {
    root + "/t/\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? target)/v1"
  }

  package func attach(_ target: String, token: String) { sessions.current.withLock { $0[target] = token } }

  static func handle(_ r: HTTPServer.Request, _ sessions: Sessions) -> HTTPServer.Response {
    let path = r.path.split(separator: "?").first.map(String.init) ?? r.path
    let parts = path.split(separator: "/", maxSplits: 2).map(String.init)
    guard parts.count == 3, parts[0] == "c" || parts[0] == "t" else {
      return .json(
        HTTPServer.error("\(r.method) \(path) is not served here", type: "invalid_request_error"), status: 404)
    }
    let token =
      parts[0] == "c" ? parts[1] : sessions.current.withLock { $0[parts[1].removingPercentEncoding ?? parts[1]] } ?? ""
    guard let log = sessions.logs.withLock({ $0[token] }) else {
      return .json(
        HTTPServer.error(
          "no case of promptcheck is running for this endpoint (a call made after its case ended?)",
          type: "invalid_request_error"), status: 404)
    }
    let rest = "/" + parts[2]
    switch (r.method, rest) {
    case ("GET", "/v1/models"):
      return .json(["object": "list", "data": [["id": .string(log.provider.model ?? "model"), "object": "model"]]])
    case ("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings"):
      break
    default:
      return .json(
        HTTPServer.error(
          "\(r.method) \(rest) is not served: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models",
          type: "invalid_request_error"), status: 404)
    }
    guard let body = try? JSON.parse(bytes: r.body), case .object(var fields) = body,
      let model = fields["model"]?.stringValue
    else {
      return .json(
        HTTPServer.error("the body is not a JSON object with a model", type: "invalid_request_error"), status: 400)
    }
    let isChat = rest.hasSuffix("/chat/completions")
    let streamed = fields["stream"] == .bool(true)
    if log.recorded != nil {
      switch log.replay(path: isChat ? "/chat/completions" : "/embeddings", body: body) {
      case .failure(let miss):
        return .json(
          HTTPServer.error(miss.message, type: "invalid_request_error", code: "cassette_not_found"), status: 404)
      case .success(let record):
        return answer(record.response["body"] ?? .null, streamed: streamed)
      }
    }
    // Forwarded to the provider and kept; the HTTP server's thread waits for the async client.
    fields["model"] = nil
    let request: ChatRequest
    if isChat {
      let messages = fields["messages"]?.arrayValue ?? []
      fields["messages"] = nil
      fields["stream"] = nil
      fields["stream_options"] = nil
      request = ChatRequest(provider: log.provider, model: model, messages: messages, params: fields)
    } else {
      let input =
        fields["input"]?.stringValue.map { [$0] } ?? fields["input"]?.arrayValue?.compactMap(\.stringValue) ?? []
      fields["input"] = nil
      request = ChatRequest(
        provider: log.provider, model: model, messages: [], params: fields, endpoint: .embeddings(input: input))
    }
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<Result<Exchange, CallError>?>(nil)
    Task {
      let r = await log.forward(request)
      result.withLock { $0 = r }
      done.signal()
    }
    done.wait()
    switch result.withLock({ $0 }) {
    case .success(let exchange)?:
      return answer(log.redactor(exchange.decoded.body), streamed: streamed)
    case .failure(let e)?:
      return .json(
        HTTPServer.error("the model call failed: \(log.redactor(e.message))", type: "api_error"), status: 502)
    case nil:
      return .json(HTTPServer.error("no answer", type: "api_error"), status: 502)
    }
  }

  /// A recorded (or just forwarded) completion, as the event stream a streamed request expects.
  static func answer(_ body: JSON, streamed: Bool) -> HTTPServer.Response {
    streamed ? .streamed(body) : .json(body)
  }
}
