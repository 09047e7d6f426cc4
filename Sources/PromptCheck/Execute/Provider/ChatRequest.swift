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

enum URLParts {
  /// The path of an absolute URL ("/api/v1/chat/completions").
  static func path(of url: String) -> String {
    // Scanned as bytes: every replayed case compares its URL path.
    let u = url.utf8
    var i = u.startIndex
    var colons = 0
    // After "://": the first "/" starts the path, and "?" or "#" ends it.
    while i != u.endIndex {
      let b = u[i]
      u.formIndex(after: &i)
      if colons == 0 {
        if b == UInt8(ascii: ":") { colons = 1 }
      } else if colons < 3 {
        colons = b == UInt8(ascii: "/") ? colons + 1 : (b == UInt8(ascii: ":") ? 1 : 0)
        if colons == 3 { break }
      }
    }
    guard colons == 3 else { return url }
    guard
      let slash = u[i...].firstIndex(where: {
        $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
      }), u[slash] == UInt8(ascii: "/")
    else {
      return "/"
    }
    let end = u[slash...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? u.endIndex
    return String(url[slash..<end])
  }

  /// The host of an absolute URL, lower-cased, without port or credentials.
  static func host(of url: String) -> String? {
    let u = url.utf8
    guard let scheme = u.firstRange(of: "://".utf8) else { return nil }
    var rest = u[scheme.upperBound...]
    if let end = rest.firstIndex(where: {
      $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
    }) {
      rest = rest[..<end]
    }
    if let at = rest.lastIndex(of: UInt8(ascii: "@")) { rest = rest[rest.index(after: at)...] }
    if let colon = rest.lastIndex(of: UInt8(ascii: ":")), rest.last != UInt8(ascii: "]") { rest = rest[..<colon] }
    return String(url[rest.startIndex..<rest.endIndex]).lowercased()
  }
}
