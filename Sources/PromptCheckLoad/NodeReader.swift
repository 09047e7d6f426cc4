import PromptCheckCore

/// Typed reads of YAML nodes that record a diagnostic (and return nil) on a
/// wrong type, so that loading goes on and reports every problem at once.
struct NodeReader {
  var sink = DiagnosticSink()
  /// Set by `map` when the map had a key it does not know. A "missing key"
  /// error would then be noise (the key is most likely the misspelt one).
  private(set) var lastMapHadUnknownKeys = false
  /// Compiled regexes and parsed paths by their text: a suite's defaults
  /// repeat the same assertions in every test.
  var regexCache: [String: CompiledRegex] = [:]
  var pathCache: [String: JSONPath] = [:]
  /// What the judged assertions may name (README "Judged assertions"): the config's providers,
  /// and its `grader:` and `embeddings:` sections.
  /// A looped test with MCP servers: their tools are known only at run time, so a `tool_choice`
  /// naming a tool not in `params.tools` is not refused.
  var toolNamesUnknown = false
  var judgeProviders: [Provider] = []
  var graderDefaults = JudgeTarget()
  var simulatorDefaults = JudgeTarget()
  var embeddingDefaults = JudgeTarget()

  mutating func error(_ message: String, at node: YAMLNode) {
    sink.error(message, at: node.location)
  }

  mutating func error(_ message: String, at location: SourceLocation) {
    sink.error(message, at: location)
  }

  /// The map's pairs, after reporting every key not in `allowed` (with a "did you mean" hint).
  mutating func map(_ node: YAMLNode, _ what: String, allowed: [String]) -> [String: YAMLNode]? {
    guard let pairs = node.mapping else {
      error("\(what) must be a map, found \(node.kindDescription)", at: node)
      return nil
    }
    var result: [String: YAMLNode] = [:]
    lastMapHadUnknownKeys = false
    for pair in pairs {
      let key = pair.key.scalar?.text ?? ""
      if allowed.contains(key) {
        result[key] = pair.value
      } else {
        unknownKey(key, at: pair.key, in: what, allowed: allowed)
        lastMapHadUnknownKeys = true
      }
    }
    return result
  }

  /// Names the closest valid key, or when none is close, all of them.
  mutating func unknownKey(_ key: String, at node: YAMLNode, in what: String, allowed: [String]) {
    var message = "unknown key '\(key)' in \(what)"
    if let guess = closestMatch(to: key, in: allowed) {
      message += "; did you mean '\(guess)'?"
    } else {
      message += "; expected one of: " + allowed.joined(separator: ", ")
    }
    error(message, at: node)
  }

  /// Text of a scalar. Numbers and booleans are read as written (`30` is "30"); null, lists and maps are errors.
  mutating func string(_ node: YAMLNode, _ what: String) -> String? {
    guard let (text, _) = node.scalar, node.resolved != .null else {
      error("\(what) must be a string, found \(node.kindDescription)", at: node)
      return nil
    }
    return text
  }

  mutating func strictString(_ node: YAMLNode, _ what: String) -> String? {
    guard case .string(let s)? = node.resolved else {
      error("\(what) must be a string, found \(node.kindDescription)", at: node)
      return nil
    }
    return s
  }

  mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
    guard case .bool(let b)? = node.resolved else {
      error("\(what) must be true or false, found \(node.kindDescription)", at: node)
      return nil
    }
    return b
  }

  mutating func int(_ node: YAMLNode, _ what: String, min: Int? = nil, max: Int? = nil) -> Int? {
    guard case .int(let v)? = node.resolved else {
      error("\(what) must be an integer, found \(node.kindDescription)", at: node)
      return nil
    }
    if let min, v < min {
      error("\(what) must be at least \(min), found \(v)", at: node)
      return nil
    }
    if let max, v > max {
      error("\(what) must be at most \(max), found \(v)", at: node)
      return nil
    }
    return v
  }

  mutating func number(_ node: YAMLNode, _ what: String, in range: ClosedRange<Double>? = nil) -> Double? {
    let v: Double
    switch node.resolved {
    case .int(let i)?: v = Double(i)
    case .double(let d)? where d.isFinite: v = d
    default:
      error("\(what) must be a number, found \(node.kindDescription)", at: node)
      return nil
    }
    if let range, !range.contains(v) {
      error(
        "\(what) must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), found \(node.scalar?.text ?? "")",
        at: node)
      return nil
    }
    return v
  }

  static func format(_ d: Double) -> String {
    d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
  }

  mutating func list(_ node: YAMLNode, _ what: String) -> [YAMLNode]? {
    guard let items = node.sequence else {
      error("\(what) must be a list, found \(node.kindDescription)", at: node)
      return nil
    }
    return items
  }

  mutating func stringList(_ node: YAMLNode, _ what: String) -> [String]? {
    guard let items = list(node, what) else { return nil }
    var out: [String] = []
    var ok = true
    for item in items {
      if let s = string(item, "each item of \(what)") { out.append(s) } else { ok = false }
    }
    return ok ? out : nil
  }

  /// Converts a node to JSON (plain scalars typed by the core schema), rendering every string with `render`.
  mutating func json(_ node: YAMLNode, render: (String, SourceLocation) -> String = { s, _ in s }) -> JSON {
    node.json(render: render) { message, at in error(message, at: at) }
  }

  /// A field that is sent or stored as written (a name, a tag, a header, a base URL) must not
  /// look templated: its `{{…}}` would go out literally (README "Limits and safety").
  mutating func refuseTemplate(_ node: YAMLNode?, _ key: String) {
    guard let node, let text = node.scalar?.text, Template.mayHaveTemplates(text),
      !Template.variables(in: text).isEmpty
    else { return }
    error(
      "'\(key)' is not templated, so its {{…}} would stay as written; only messages, params, assertions, model, provider and file paths take variables",
      at: node)
  }
}
