/// Replaces every occurrence of the run's secrets (the values of the providers'
/// `api_key_env` variables) with `<redacted>`. The runner applies it once, where a
/// completion enters the pipeline, so goldens, reports, the terminal and GitHub
/// output only ever see redacted text; cassettes are written and matched through it.
package struct Redactor: Sendable {
  package static let mark = "<redacted>"
  /// Secrets shorter than this are not redacted (they would mangle ordinary text).
  static let minimumLength = 4

  package let secrets: [String]

  package init(secrets: [String]) {
    // Longest first, so a secret that contains another is replaced whole.
    self.secrets = Array(Set(secrets.filter { $0.count >= Self.minimumLength })).sorted { $0.count > $1.count }
  }

  /// The secrets of every provider of `config` found in `environment`.
  package init(providers: [Provider], environment: [String: String]) {
    self.init(secrets: providers.compactMap { p in p.apiKeyEnv.flatMap { environment[$0] } })
  }

  package static let none = Redactor(secrets: [])

  package var isEmpty: Bool { secrets.isEmpty }

  package func callAsFunction(_ s: String) -> String {
    guard !secrets.isEmpty else { return s }
    var t = s
    for secret in secrets where t.contains(secret) { t = t.replacingOccurrences(of: secret, with: Self.mark) }
    return t
  }

  package func callAsFunction(_ value: JSON) -> JSON {
    guard !secrets.isEmpty else { return value }
    switch value {
    case .string(let s): return .string(self(s))
    case .array(let a): return .array(a.map { self($0) })
    case .object(let o): return .object(JSONObject(o.members.map { (self($0.key), self($0.value)) }))
    default: return value
    }
  }

  package func callAsFunction(_ c: Completion) -> Completion {
    guard !secrets.isEmpty else { return c }
    var r = c
    r.content = self(c.content)
    r.reasoning = self(c.reasoning)
    r.toolCalls = c.toolCalls.map { call in
      var t = call
      t.name = self(call.name)
      t.arguments = self(call.arguments)
      return t
    }
    r.response = self(c.response)
    return r
  }
}
