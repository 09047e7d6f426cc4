/// `${VAR}` and `${VAR:-default}` in a text (README "The config file"): each replaced by what
/// `lookup` gives for the name and its default; one reader for the config's strings and for
/// app targets' values read when a case runs.
package enum EnvironmentText {
  package struct ExpansionError: Error, Sendable { package var message: String }

  /// Replaces each `${NAME}` (or `${NAME:-default}`); a variable that is unset (or empty) and
  /// has no default is an error naming it.
  package static func expand(_ text: String, _ lookup: (String, String?) -> String?) -> Result<String, ExpansionError> {
    var out = ""
    var rest = Substring(text)
    while let open = rest.range(of: "${") {
      out += rest[..<open.lowerBound]
      guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
        return .failure(ExpansionError(message: "'${' is not closed by '}'"))
      }
      let inner = rest[open.upperBound..<close]
      let name: Substring
      var fallback: String?
      if let sep = inner.range(of: ":-") {
        name = inner[..<sep.lowerBound]
        fallback = String(inner[sep.upperBound...])
      } else {
        name = inner
      }
      guard let first = name.first, first == "_" || first.isLetter,
        name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber })
      else { return .failure(ExpansionError(message: "'${\(inner)}' does not name an environment variable")) }
      guard let value = lookup(String(name), fallback) else {
        return .failure(
          ExpansionError(
            message: "the environment variable \(name) is not set; set it, or give a default: ${\(name):-value}"))
      }
      out += value
      rest = rest[rest.index(after: close)...]
    }
    return .success(out + rest)
  }

  /// The variable names a text refers to (`${NAME}` and `${NAME:-default}`).
  package static func names(in text: String) -> [String] {
    var out: [String] = []
    var rest = Substring(text)
    while let open = rest.range(of: "${"), let close = rest[open.upperBound...].firstIndex(of: "}") {
      let inner = rest[open.upperBound..<close]
      let name = inner.range(of: ":-").map { inner[..<$0.lowerBound] } ?? inner
      if !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) { out.append(String(name)) }
      rest = rest[rest.index(after: close)...]
    }
    return out
  }
}
