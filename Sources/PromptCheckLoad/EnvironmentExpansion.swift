import PromptCheckCore

/// `${VAR}` and `${VAR:-default}` in the config's string values (README "The config file"),
/// so one config serves several environments (a `base_url` per CI stage). Never in `headers`:
/// a value taken from the environment there would be written into every cassette.
enum EnvironmentExpansion {
  /// `references` gets each variable expanded in a `base_url` with its value: what is written
  /// (a cassette's URL) holds `${NAME}` again, not the value (README "Limits and safety").
  static func expand(
    _ node: YAMLNode, _ environment: [String: String], problems: inout [Diagnostic], inHeaders: Bool = false,
    references: inout [(name: String, value: String)], inURL: Bool = false
  ) -> YAMLNode {
    var out = node
    switch node.content {
    case .scalar(let text, let style):
      guard text.contains("${") else { return node }
      if inHeaders {
        problems.append(
          Diagnostic(
            "headers take no ${…}: a value from the environment would be written into every cassette; "
              + "name a key's variable in api_key_env instead", at: node.location))
        return node
      }
      var used: [(name: String, value: String)] = []
      let lookup: (String, String?) -> String? = { name, fallback in
        let value = environment[name].flatMap { $0.isEmpty ? nil : $0 }
        if let value { used.append((name, value)) }
        return value ?? fallback
      }
      defer { if inURL { references += used } }
      switch EnvironmentText.expand(text, lookup) {
      // Typed as written: `jobs: ${JOBS:-4}` is a number.
      case .success(let expanded): out.content = .scalar(expanded, style)
      case .failure(let p): problems.append(Diagnostic(p.message, at: node.location))
      }
    case .sequence(let items):
      out.content = .sequence(
        items.map {
          expand($0, environment, problems: &problems, inHeaders: inHeaders, references: &references, inURL: inURL)
        })
    case .mapping(let pairs):
      out.content = .mapping(
        pairs.map { p in
          // `api_key_env` names a variable; it is never expanded (the loader explains a `$NAME` there).
          guard p.key.scalar?.text != "api_key_env" else { return p }
          // A target's `${VAR}`s are read when a case runs, their values redacted (README "Testing your app").
          guard p.key.scalar?.text != "targets" else { return p }
          return YAMLNode.Pair(
            key: p.key,
            value: expand(
              p.value, environment, problems: &problems, inHeaders: inHeaders || p.key.scalar?.text == "headers",
              references: &references, inURL: p.key.scalar?.text == "base_url"))
        })
    }
    return out
  }
}
