import PromptCheckCore

/// `{{name}}` / `{{ name }}` variables and `{{file:relative/path}}` includes.
///
/// A `{{…}}` whose inside is neither a variable name (letters, digits, `_`,
/// `-`, `.`, starting with a letter or `_`) nor `file:…` is left as written,
/// so JSON such as `{{"a": 1}}` in a prompt needs no escaping.
enum Template {
  enum Part: Equatable {
    case text(Substring)
    case variable(String)
    case file(String)
  }

  /// True when `s` has "{{" (a byte scan: far cheaper than a Foundation search on every string).
  static func mayHaveTemplates(_ s: String) -> Bool {
    var previousWasBrace = false
    for b in s.utf8 {
      if b == UInt8(ascii: "{") {
        if previousWasBrace { return true }
        previousWasBrace = true
      } else {
        previousWasBrace = false
      }
    }
    return false
  }

  static func parse(_ s: String) -> [Part] {
    guard mayHaveTemplates(s) else { return [.text(Substring(s))] }
    var parts: [Part] = []
    var rest = Substring(s)
    while let open = rest.range(of: "{{") {
      guard var close = rest[open.upperBound...].range(of: "}}") else { break }
      // A file path may hold variables itself: `{{file:prompts/{{version}}.txt}}`.
      if rest[open.upperBound...].trimmingBlanks().hasPrefix("file:") {
        var depth = rest[open.upperBound..<close.lowerBound].components(separatedBy: "{{").count - 1
        while depth > 0, let next = rest[close.upperBound...].range(of: "}}") {
          depth -= 1
          close = next
        }
      }
      let inner = rest[open.upperBound..<close.lowerBound].trimmingBlanks()
      if inner.hasPrefix("file:") {
        let path = String(inner.dropFirst(5)).trimmingBlanks()
        parts.append(.text(rest[..<open.lowerBound]))
        parts.append(.file(String(path)))
        rest = rest[close.upperBound...]
      } else if isVariableName(inner) {
        parts.append(.text(rest[..<open.lowerBound]))
        parts.append(.variable(String(inner)))
        rest = rest[close.upperBound...]
      } else {
        parts.append(.text(rest[..<open.upperBound]))
        rest = rest[open.upperBound...]
      }
    }
    parts.append(.text(rest))
    return parts
  }

  static func isVariableName<S: StringProtocol>(_ s: S) -> Bool {
    guard let first = s.unicodeScalars.first,
      first == "_" || (first.isASCII && first.properties.isAlphabetic)
    else { return false }
    return s.unicodeScalars.allSatisfy {
      $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == ".")
    }
  }

  /// A `{{file:…}}` path with its own `{{var}}`s filled in.
  static func filePath(_ path: String, vars: [String: String], missing: (Problem) -> Void) -> String {
    guard mayHaveTemplates(path) else { return path }
    return render(path, vars: vars, files: [:], missing: missing)
  }

  /// The names of the variables a string uses.
  static func variables(in s: String) -> [String] {
    parse(s).compactMap { if case .variable(let v) = $0 { return v } else { return nil } }
  }

  static func files(in s: String) -> [String] {
    parse(s).compactMap { if case .file(let f) = $0 { return f } else { return nil } }
  }

  /// What a template could not fill.
  enum Problem: Equatable {
    case unknownVariable(String)
    case unreadableFile(String)
  }

  /// Renders a string. Unknown variables and unread files are reported through `missing`.
  static func render(
    _ s: String, vars: [String: String], files: [String: String],
    missing: (Problem) -> Void
  ) -> String {
    guard mayHaveTemplates(s) else { return s }
    var out = ""
    for part in parse(s) {
      switch part {
      case .text(let t): out += t
      case .variable(let v):
        if let value = vars[v] { out += value } else { missing(.unknownVariable(v)) }
      case .file(let f):
        let path = Template.filePath(f, vars: vars, missing: missing)
        if let text = files[path] { out += text } else if !path.contains("{{") { missing(.unreadableFile(path)) }
      }
    }
    return out
  }
}

extension StringProtocol {
  func trimmingBlanks() -> SubSequence {
    var s = self[...]
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
    return s
  }
}
