extension JSON {
  package enum KeyOrder: Sendable { case asWritten, sorted }

  /// Compact JSON text. `sorted` orders member names by code point (canonical form).
  package func serialized(keys: KeyOrder = .asWritten) -> String {
    var out: [UInt8] = []
    write(to: &out, keys: keys, indent: false, level: 0)
    return String(decoding: out, as: UTF8.self)
  }

  /// Indented JSON text (two spaces), as goldens and reports store it.
  package func prettyPrinted(keys: KeyOrder = .sorted) -> String {
    var out: [UInt8] = []
    write(to: &out, keys: keys, indent: true, level: 0)
    return String(decoding: out, as: UTF8.self)
  }

  /// Appends the indented text (two spaces a level), as if this value stood at `level`.
  package func writePretty(to out: inout [UInt8], keys: KeyOrder = .asWritten, level: Int) {
    write(to: &out, keys: keys, indent: true, level: level)
  }

  /// Canonical form for matching: sorted keys, numbers normalised (`1.0` is `1`).
  package var canonical: String {
    canonicalized.serialized(keys: .sorted)
  }

  package var canonicalized: JSON {
    switch self {
    case .double(let d):
      if d.rounded() == d, abs(d) < 9.0e15 { return .int(Int(d)) }
      return self
    case .array(let a): return .array(a.map(\.canonicalized))
    case .object(let o): return .object(JSONObject(o.members.map { ($0.key, $0.value.canonicalized) }))
    default: return self
    }
  }

  /// A newline and `level` indents of two spaces.
  @inline(__always)
  package static func newline(_ out: inout [UInt8], _ level: Int) {
    out.append(10)
    for _ in 0..<level {
      out.append(32)
      out.append(32)
    }
  }

  private func write(to out: inout [UInt8], keys: KeyOrder, indent: Bool, level: Int) {
    switch self {
    case .null: out += "null".utf8
    case .bool(let b): out += (b ? "true" : "false").utf8
    case .int(let i): out += String(i).utf8
    case .double(let d): out += JSON.format(d).utf8
    case .string(let s): JSON.quote(s, into: &out)
    case .array(let a):
      if a.isEmpty {
        out += "[]".utf8
        return
      }
      out.append(UInt8(ascii: "["))
      for (n, v) in a.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        if indent { Self.newline(&out, level + 1) }
        v.write(to: &out, keys: keys, indent: indent, level: level + 1)
      }
      if indent { Self.newline(&out, level) }
      out.append(UInt8(ascii: "]"))
    case .object(let o):
      if o.count == 0 {
        out += "{}".utf8
        return
      }
      out.append(UInt8(ascii: "{"))
      let members = keys == .sorted ? o.sortedMembers : o.members
      for (n, m) in members.enumerated() {
        if n > 0 { out.append(UInt8(ascii: ",")) }
        if indent { Self.newline(&out, level + 1) }
        JSON.quote(m.key, into: &out)
        out.append(UInt8(ascii: ":"))
        if indent { out.append(32) }
        m.value.write(to: &out, keys: keys, indent: indent, level: level + 1)
      }
      if indent { Self.newline(&out, level) }
      out.append(UInt8(ascii: "}"))
    }
  }

  static func format(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    if d.rounded() == d, abs(d) < 1e16 { return String(Int(d)) + ".0" }
    return "\(d)"
  }

  static func quote(_ s: String, into out: inout String) {
    // Most strings need no escape: appended whole (messages quote needles for every case).
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
      out += "\""
      out += s
      out += "\""
      return
    }
    var bytes: [UInt8] = []
    quote(s, into: &bytes)
    out += String(decoding: bytes, as: UTF8.self)
  }

  /// The string quoted and escaped, in bytes: runs with nothing to escape are copied whole.
  static func quote(_ s: String, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    var s = s
    s.withUTF8 { bytes in
      var run = 0
      for i in 0..<bytes.count {
        let b = bytes[i]
        guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
        if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i])) }
        run = i + 1
        switch b {
        case UInt8(ascii: "\""): out += "\\\"".utf8
        case UInt8(ascii: "\\"): out += "\\\\".utf8
        case 10: out += "\\n".utf8
        case 13: out += "\\r".utf8
        case 9: out += "\\t".utf8
        case 8: out += "\\b".utf8
        case 12: out += "\\f".utf8
        default:
          let hex = String(b, radix: 16)
          out += "\\u".utf8
          out += String(repeating: "0", count: 4 - hex.count).utf8
          out += hex.utf8
        }
      }
      if run < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count])) }
    }
    out.append(UInt8(ascii: "\""))
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

/// One JSON object written member by member straight into indented text: byte for byte what
/// `writePretty` writes for the same object, without building it first (a report writes its
/// cases this way, by the thousand).
package struct PrettyObject {
  private let level: Int
  private var members = 0

  /// Opens the object, as if it stood at `level`.
  package init(level: Int, into out: inout [UInt8]) {
    self.level = level
    out.append(UInt8(ascii: "{"))
  }

  /// The level of the members' values.
  package var inner: Int { level + 1 }

  /// The next member's name; its value is written next.
  package mutating func key(_ name: String, _ out: inout [UInt8]) {
    if members > 0 { out.append(UInt8(ascii: ",")) }
    JSON.newline(&out, level + 1)
    JSON.quote(name, into: &out)
    out.append(UInt8(ascii: ":"))
    out.append(32)
    members += 1
  }

  package mutating func string(_ name: String, _ value: String, _ out: inout [UInt8]) {
    key(name, &out)
    JSON.quote(value, into: &out)
  }

  package mutating func int(_ name: String, _ value: Int, _ out: inout [UInt8]) {
    key(name, &out)
    out += String(value).utf8
  }

  package mutating func double(_ name: String, _ value: Double, _ out: inout [UInt8]) {
    key(name, &out)
    out += JSON.format(value).utf8
  }

  package mutating func bool(_ name: String, _ value: Bool, _ out: inout [UInt8]) {
    key(name, &out)
    out += (value ? "true" : "false").utf8
  }

  package mutating func value(_ name: String, _ value: JSON, _ out: inout [UInt8]) {
    key(name, &out)
    value.writePretty(to: &out, level: level + 1)
  }

  /// Closes the object.
  package func end(_ out: inout [UInt8]) {
    if members > 0 { JSON.newline(&out, level) }
    out.append(UInt8(ascii: "}"))
  }
}
