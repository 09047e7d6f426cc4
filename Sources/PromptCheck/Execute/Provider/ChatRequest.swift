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
    let u = url.utf8
    guard let start = afterScheme(u) else { return url }
    // The first "/" starts the path, and "?" or "#" ends it.
    guard let slash = u[start...].firstIndex(where: isDelimiter), u[slash] == UInt8(ascii: "/") else { return "/" }
    let end = u[slash...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? u.endIndex
    return String(url[slash..<end])
  }

  /// The host of an absolute URL, lower-cased, without port or credentials.
  static func host(of url: String) -> String? {
    let u = url.utf8
    guard let start = afterScheme(u) else { return nil }
    var rest = u[start..<(u[start...].firstIndex(where: isDelimiter) ?? u.endIndex)]
    if let at = rest.lastIndex(of: UInt8(ascii: "@")) { rest = rest[rest.index(after: at)...] }
    if let colon = rest.lastIndex(of: UInt8(ascii: ":")), rest.last != UInt8(ascii: "]") { rest = rest[..<colon] }
    return String(url[rest.startIndex..<rest.endIndex]).lowercased()
  }

  /// Where the part after the first `://` starts (scanned as bytes: every replayed case compares
  /// its URL path); nil when there is none.
  static func afterScheme(_ u: String.UTF8View) -> String.Index? {
    var i = u.startIndex
    while let colon = u[i...].firstIndex(of: UInt8(ascii: ":")) {
      i = u.index(after: colon)
      if u[i...].starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) { return u.index(i, offsetBy: 2) }
    }
    return nil
  }

  /// What ends a URL's authority.
  static func isDelimiter(_ b: UInt8) -> Bool {
    b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#")
  }
}
