/// One chat-completions call as the suite describes it (README "Calling the API"), or the
/// embeddings call of a `similar` assertion.
package struct ChatRequest: Sendable {
  package var provider: Provider
  package var model: String
  package var messages: [JSON]
  package var params: JSONObject
  package var endpoint: Endpoint

  package enum Endpoint: Sendable, Equatable {
    /// `POST /chat/completions`.
    case chat
    /// `POST /embeddings` with these inputs.
    case embeddings(input: [String])
  }

  package init(provider: Provider, model: String, messages: [JSON], params: JSONObject, endpoint: Endpoint = .chat) {
    self.provider = provider
    self.model = model
    self.messages = messages
    self.params = params
    self.endpoint = endpoint
  }

  package var isStream: Bool { endpoint == .chat && params["stream"] == .bool(true) }

  package var url: String {
    switch endpoint {
    case .chat: provider.baseURL + "/chat/completions"
    case .embeddings: provider.baseURL + "/embeddings"
    }
  }

  /// `path` part of the URL, for cassette matching.
  package var urlPath: String { URLParts.path(of: url) }

  /// `{model, messages, ...params}`: exactly the params the suite gives, in its
  /// order; a streamed request adds `stream_options: {include_usage: true}`
  /// unless the suite sets `stream_options` itself.
  package var body: JSON {
    var o = JSONObject()
    o["model"] = .string(model)
    if case .embeddings(let input) = endpoint {
      o["input"] = input.count == 1 ? .string(input[0]) : .array(input.map(JSON.string))
      for (k, v) in params.members { o[k] = v }
      return .object(o)
    }
    o["messages"] = .array(messages)
    for (k, v) in params.members { o[k] = v }
    if isStream, params["stream_options"] == nil {
      o["stream_options"] = ["include_usage": true]
    }
    return .object(o)
  }

  /// Header fields without the secret (what a cassette may hold).
  package var publicHeaders: [(name: String, value: String)] {
    var h: [(name: String, value: String)] = [("Content-Type", "application/json")]
    if isStream { h.append(("Accept", "text/event-stream")) }
    for header in provider.headers { h.append((header.name, header.value)) }
    return h
  }
}

extension PlannedCase {
  /// The case's model call (a looped case's first, with `loop.first_step` over its params).
  package var request: ChatRequest {
    var params = variant.params
    for (key, value) in variant.loop?.firstStep?.members ?? [] { params[key] = value }
    return ChatRequest(provider: provider, model: model, messages: variant.messages, params: params)
  }

  /// A looped case's later model call: the conversation so far, with the test's own params.
  package func request(messages: [JSON]) -> ChatRequest {
    ChatRequest(provider: provider, model: model, messages: messages, params: variant.params)
  }
}
