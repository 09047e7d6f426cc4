extension JSON {
  package enum KeyOrder: Sendable { case asWritten, sorted }

  /// Compact JSON text. `sorted` orders member names by code point (canonical form).
  package func serialized(keys: KeyOrder = .asWritten) -> String {
    var out = ""
    write(to: &out, keys: keys, indent: nil, level: 0)
    return out
  }

  /// Indented JSON text (two spaces), as goldens and reports store it.
  package func prettyPrinted(keys: KeyOrder = .sorted) -> String {
    var out = ""
    write(to: &out, keys: keys, indent: "  ", level: 0)
    return out
  }

  /// Canonical form for matching: sorted keys, numbers normalised (`1.0` is `1`).
  package var canonical: String {
    canonicalized.serialized(keys: .sorted)
  }

  var canonicalized: JSON {
    switch self {
    case .double(let d):
      if d.rounded() == d, abs(d) < 9.0e15 { return .int(Int(d)) }
      return self
    case .array(let a): return .array(a.map(\.canonicalized))
    case .object(let o): return .object(JSONObject(o.members.map { ($0.key, $0.value.canonicalized) }))
    default: return self
    }
  }

  private func write(to out: inout String, keys: KeyOrder, indent: String?, level: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += JSON.format(d)
    case .string(let s): JSON.quote(s, into: &out)
    case .array(let a):
      if a.isEmpty { out += "[]"; return }
      out += "["
      for (n, v) in a.enumerated() {
        if n > 0 { out += "," }
        if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
        v.write(to: &out, keys: keys, indent: indent, level: level + 1)
      }
      if let indent { out += "\n" + String(repeating: indent, count: level) }
      out += "]"
    case .object(let o):
      if o.count == 0 { out += "{}"; return }
      out += "{"
      let members = keys == .sorted ? o.sortedMembers : o.members
      for (n, m) in members.enumerated() {
        if n > 0 { out += "," }
        if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
        JSON.quote(m.key, into: &out)
        out += indent == nil ? ":" : ": "
        m.value.write(to: &out, keys: keys, indent: indent, level: level + 1)
      }
      if let indent { out += "\n" + String(repeating: indent, count: level) }
      out += "}"
    }
  }

  static func format(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    if d.rounded() == d, abs(d) < 1e16 { return String(Int(d)) + ".0" }
    return "\(d)"
  }

  static func quote(_ s: String, into out: inout String) {
    out += "\""
    // Fast path: nothing to escape, copy the string whole.
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
      out += s
      out += "\""
      return
    }
    appendEscaped(s, quote: "\"", into: &out)
    out += "\""
  }

  /// `s` with JSON's escapes (as RFC 9535 normalized paths use them too): the quote
  /// character, backslash, the named control escapes, other controls as `\u00XX`.
  static func appendEscaped(_ s: String, quote: Unicode.Scalar, into out: inout String) {
    for u in s.unicodeScalars {
      switch u {
      case quote, "\\": out += "\\" + String(u)
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if u.value < 0x20 {
          let hex = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
  }

  package static func quoted(_ s: String) -> String {
    var out = ""
    quote(s, into: &out)
    return out
  }
}
