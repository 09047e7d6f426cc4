/// The team's own app as what answers a case (README "Testing your app"): an HTTP endpoint or
/// a command, given a loopback OpenAI-compatible endpoint for its own model calls, which are
/// recorded as the case's `app` steps and replayed from its cassette.
package struct AppTarget: Sendable {
  package enum Kind: Sendable {
    case http(HTTPTarget)
    case command(CommandTarget)
  }

  package var name: String
  package var kind: Kind
  /// The variable that gives the app the endpoint for its model calls (`env_base_url`,
  /// default `OPENAI_BASE_URL`), and the one given a placeholder key (`env_api_key`).
  package var baseURLEnv: String
  package var apiKeyEnv: String
  /// Where the app's model calls go when they are recorded; nil: the case's provider.
  package var provider: Provider?
  /// `session:`: where a conversation's id is sent to the app (a header or a body field).
  package var session: Session?
  package var location: SourceLocation

  package enum Session: Sendable, Equatable {
    case header(String)
    case bodyField(String)
  }

  package static let defaultBaseURLEnv = "OPENAI_BASE_URL"
  package static let defaultAPIKeyEnv = "OPENAI_API_KEY"
  /// The key the app is given: it reaches only promptcheck's loopback endpoint.
  package static let placeholderKey = "sk-promptcheck-placeholder"
  package static let defaultTimeoutMS = 60_000

  package init(
    name: String, kind: Kind, baseURLEnv: String = defaultBaseURLEnv, apiKeyEnv: String = defaultAPIKeyEnv,
    provider: Provider? = nil, session: Session? = nil, location: SourceLocation
  ) {
    self.name = name
    self.kind = kind
    self.baseURLEnv = baseURLEnv
    self.apiKeyEnv = apiKeyEnv
    self.provider = provider
    self.session = session
    self.location = location
  }

  /// `${VAR}` names anywhere in the target (read from the environment when a case runs, their
  /// values redacted like an API key).
  package var secretReferences: [String] {
    var texts: [String] = []
    func strings(_ j: JSON) -> [String] {
      switch j {
      case .string(let s): [s]
      case .array(let items): items.flatMap(strings)
      case .object(let o): o.members.flatMap { strings($0.value) }
      default: []
      }
    }
    switch kind {
    case .http(let h):
      texts = [h.url] + h.headers.map(\.value) + (h.start?.env.map(\.value) ?? [])
      if case .text(let t) = h.body { texts.append(t) }
      if case .json(let j) = h.body { texts += strings(j) }
    case .command(let c):
      texts = c.env.map(\.value) + [c.stdin ?? ""]
    }
    return texts.flatMap(EnvironmentText.names(in:))
  }

}

/// `http:` of a target: the request made for each case (templates rendered with its vars and
/// `{{prompt}}`, `{{messages_json}}`, `{{session}}`, `{{model_base_url}}`) and where its answer is.
package struct HTTPTarget: Sendable {
  package enum Body: Sendable {
    /// A YAML map or list: sent as JSON, each string rendered (`"{{messages_json}}"` alone becomes the list).
    case json(JSON)
    /// A string: rendered and sent as written.
    case text(String)
    case none
  }

  package var url: String
  package var method: String
  package var headers: [(name: String, value: String)]
  package var body: Body
  /// A JSON path to the answer text in the response body; nil: the whole body is the answer.
  package var response: JSONPath?
  package var responseText: String?
  /// `stream: sse`: the answer is assembled from the events, `response` read from each.
  package var streamed: Bool
  package var timeoutMS: Int
  /// `start:`: the app is started once per run and stopped at its end.
  package var start: AppStart?

  package init(
    url: String, method: String = "POST", headers: [(name: String, value: String)] = [], body: Body = .none,
    response: JSONPath? = nil, responseText: String? = nil, streamed: Bool = false,
    timeoutMS: Int = AppTarget.defaultTimeoutMS, start: AppStart? = nil
  ) {
    self.url = url
    self.method = method
    self.headers = headers
    self.body = body
    self.response = response
    self.responseText = responseText
    self.streamed = streamed
    self.timeoutMS = timeoutMS
    self.start = start
  }
}

/// `command:` of a target: one process per case, the rendered `stdin` on its standard input, its
/// standard output the answer (text, or JSON read at `response`).
package struct CommandTarget: Sendable {
  package var argv: [String]
  package var display: String
  package var stdin: String?
  package var json: Bool
  package var response: JSONPath?
  package var responseText: String?
  package var timeoutMS: Int
  package var env: [(name: String, value: String)]

  package init(
    argv: [String], display: String, stdin: String? = nil, json: Bool = false, response: JSONPath? = nil,
    responseText: String? = nil, timeoutMS: Int = AppTarget.defaultTimeoutMS, env: [(name: String, value: String)] = []
  ) {
    self.argv = argv
    self.display = display
    self.stdin = stdin
    self.json = json
    self.response = response
    self.responseText = responseText
    self.timeoutMS = timeoutMS
    self.env = env
  }
}

/// `start:` of an http target: the app's command, how to know it is ready, how long to wait.
package struct AppStart: Sendable {
  package enum Ready: Sendable, Equatable {
    /// Any HTTP answer from this URL.
    case url(String)
    /// A TCP connection to this loopback port.
    case port(Int)
  }

  package var argv: [String]
  package var display: String
  package var ready: Ready
  package var timeoutMS: Int
  package var env: [(name: String, value: String)]
  /// Relative to the project (default: the project folder).
  package var cwd: String?

  package static let defaultTimeoutMS = 30_000

  package init(
    argv: [String], display: String, ready: Ready, timeoutMS: Int = defaultTimeoutMS,
    env: [(name: String, value: String)] = [], cwd: String? = nil
  ) {
    self.argv = argv
    self.display = display
    self.ready = ready
    self.timeoutMS = timeoutMS
    self.env = env
    self.cwd = cwd
  }
}
