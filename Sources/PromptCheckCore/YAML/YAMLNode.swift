/// A YAML node with the place it was written. Aliases are already expanded and
/// `<<` merge keys already applied, so consumers see plain trees.
package struct YAMLNode: Sendable {
  package enum Style: Sendable { case plain, quoted, block }

  package struct Pair: Sendable {
    package var key: YAMLNode
    package var value: YAMLNode

    /// Every stored property (the memberwise initializer, visible to the package).
    package init(key: YAMLNode, value: YAMLNode) {
      self.key = key
      self.value = value
    }
  }

  package enum Content: Sendable {
    case scalar(String, Style)
    case sequence([YAMLNode])
    case mapping([Pair])
  }

  package var content: Content
  package var tag: String?
  package var location: SourceLocation

  package init(_ content: Content, tag: String? = nil, at location: SourceLocation) {
    self.content = content
    self.tag = tag
    self.location = location
  }

  /// A scalar's value under YAML's core schema (plain scalars are typed; quoted ones are strings).
  package enum Resolved: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
  }

  package var scalar: (text: String, style: Style)? {
    if case .scalar(let t, let s) = content { return (t, s) }
    return nil
  }

  package var sequence: [YAMLNode]? {
    if case .sequence(let items) = content { return items }
    return nil
  }

  package var mapping: [Pair]? {
    if case .mapping(let pairs) = content { return pairs }
    return nil
  }

  /// Resolution follows the YAML 1.2 core schema: `true`/`false` (any case form
  /// listed there) are booleans, `~`/`null`/empty are null; `yes`, `no`, `on`,
  /// `off` stay strings (the README says so: it avoids the "Norway problem").
  package var resolved: Resolved? {
    guard case .scalar(let text, let style) = content else { return nil }
    if let tag {
      switch tag {
      case "tag:yaml.org,2002:str": return .string(text)
      case "tag:yaml.org,2002:null": return .null
      case "tag:yaml.org,2002:bool": return Self.resolveBool(text).map(Resolved.bool) ?? .string(text)
      case "tag:yaml.org,2002:int": return Self.resolveInt(text).map(Resolved.int) ?? .string(text)
      case "tag:yaml.org,2002:float":
        return Self.resolveDouble(text).map(Resolved.double)
          ?? Self.resolveInt(text).map { Resolved.double(Double($0)) } ?? .string(text)
      default: break
      }
    }
    if style != .plain { return .string(text) }
    return Self.resolvePlain(text)
  }

  /// A plain, untagged scalar under the core schema.
  static func resolvePlain(_ text: String) -> Resolved {
    // Fast path on the first byte: most plain scalars are words that cannot be anything but strings.
    guard let first = text.utf8.first else { return .null }
    switch first {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
      if let i = Self.resolveInt(text) { return .int(i) }
      if let d = Self.resolveDouble(text) { return .double(d) }
      return .string(text)
    case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"):
      switch text {
      case "~", "null", "Null", "NULL": return .null
      default: return .string(text)
      }
    case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
      return Self.resolveBool(text).map(Resolved.bool) ?? .string(text)
    default:
      return .string(text)
    }
  }

  static func resolveBool(_ t: String) -> Bool? {
    switch t {
    case "true", "True", "TRUE": return true
    case "false", "False", "FALSE": return false
    default: return nil
    }
  }

  /// `[-+]?` then decimal digits, `0x` hex or `0o` octal (YAML 1.2 core schema).
  static func resolveInt(_ t: String) -> Int? {
    var bytes = Substring(t).utf8[...]
    var negative = false
    if let f = bytes.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") {
      negative = f == UInt8(ascii: "-")
      bytes = bytes.dropFirst()
    }
    var radix = 10
    if bytes.starts(with: "0x".utf8) {
      radix = 16
      bytes = bytes.dropFirst(2)
    } else if bytes.starts(with: "0o".utf8) {
      radix = 8
      bytes = bytes.dropFirst(2)
    }
    guard !bytes.isEmpty else { return nil }
    var value = 0
    for b in bytes {
      let digit: Int
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = Int(b - UInt8(ascii: "a")) + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = Int(b - UInt8(ascii: "A")) + 10
      default: return nil
      }
      guard digit < radix else { return nil }
      let (m, o1) = value.multipliedReportingOverflow(by: radix)
      let (a, o2) = m.addingReportingOverflow(digit)
      if o1 || o2 { return nil }
      value = a
    }
    return negative ? -value : value
  }

  static func resolveDouble(_ t: String) -> Double? {
    switch t {
    case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
    case "-.inf", "-.Inf", "-.INF": return -.infinity
    case ".nan", ".NaN", ".NAN": return .nan
    default: break
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let scalars = Array(t.unicodeScalars)
    var i = 0
    func digits() -> Int {
      let start = i
      while i < scalars.count, ("0"..."9").contains(scalars[i]) { i += 1 }
      return i - start
    }
    if i < scalars.count, scalars[i] == "-" || scalars[i] == "+" { i += 1 }
    let intDigits = digits()
    var fracDigits = 0
    if i < scalars.count, scalars[i] == "." {
      i += 1
      fracDigits = digits()
    }
    guard intDigits + fracDigits > 0 else { return nil }
    if i < scalars.count, scalars[i] == "e" || scalars[i] == "E" {
      i += 1
      if i < scalars.count, scalars[i] == "-" || scalars[i] == "+" { i += 1 }
      guard digits() > 0 else { return nil }
    }
    guard i == scalars.count else { return nil }
    return Double(t)
  }

  /// A short human description of the node's type, for "expected X, found Y" messages.
  package var kindDescription: String {
    switch content {
    case .sequence: return "a list"
    case .mapping: return "a map"
    case .scalar:
      switch resolved {
      case .null: return "null"
      case .bool: return "a boolean"
      case .int: return "an integer"
      case .double: return "a number"
      case .string(let s): return s.contains("\n") ? "a multi-line string" : "the string '\(s)'"
      case nil: return "a scalar"
      }
    }
  }

  /// Looks a key up in a mapping (last occurrence wins; duplicates are rejected by the parser).
  package subscript(key: String) -> YAMLNode? {
    mapping?.last { $0.key.scalar?.text == key }?.value
  }
}

extension YAMLNode {
  /// The node as JSON (plain scalars typed by the core schema), every string rendered with
  /// `render`; a scalar JSON cannot hold (`.inf`) is told to `problem` and becomes null.
  package func json(
    render: (String, SourceLocation) -> String = { s, _ in s }, problem: (String, YAMLNode) -> Void = { _, _ in }
  ) -> JSON {
    switch content {
    case .scalar(let text, _):
      switch resolved {
      case .null?: return .null
      case .bool(let b)?: return .bool(b)
      case .int(let i)?: return .int(i)
      case .double(let d)?:
        if d.isFinite { return .double(d) }
        problem("\(text) is not a JSON number", self)
        return .null
      case .string(let s)?: return .string(render(s, location))
      case nil: return .string(text)
      }
    case .sequence(let items):
      return .array(items.map { $0.json(render: render, problem: problem) })
    case .mapping(let pairs):
      var o = JSONObject()
      for p in pairs { o[p.key.scalar?.text ?? ""] = p.value.json(render: render, problem: problem) }
      return .object(o)
    }
  }
}
