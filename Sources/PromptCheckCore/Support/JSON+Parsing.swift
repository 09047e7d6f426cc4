/// A JSON syntax error with the place it was found.
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
  package var message: String
  /// 0-based offset in UTF-8 bytes.
  package var offset: Int
  package var line: Int
  package var column: Int

  package var description: String { "line \(line), column \(column): \(message)" }
}

extension JSON {
  /// Parses RFC 8259 JSON. Nesting is limited (default 512 levels) so hostile
  /// input cannot exhaust the stack.
  package static func parse(_ text: String, maxDepth: Int = 512) throws(JSONParseError) -> JSON {
    var bytes = Array(text.utf8)
    return try parse(bytes: &bytes, maxDepth: maxDepth)
  }

  package static func parse(bytes: [UInt8], maxDepth: Int = 512) throws(JSONParseError) -> JSON {
    var copy = bytes
    return try parse(bytes: &copy, maxDepth: maxDepth)
  }

  static func parse(bytes: inout [UInt8], maxDepth: Int) throws(JSONParseError) -> JSON {
    try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSON in
      var p = JSONReader(bytes: buffer, maxDepth: maxDepth)
      p.skipWhitespace()
      let value = try p.value(depth: 0)
      p.skipWhitespace()
      if p.i < buffer.count { throw p.error("unexpected text after the JSON value") }
      return value
    }
  }
}

private struct JSONReader {
  let bytes: UnsafeBufferPointer<UInt8>
  let maxDepth: Int
  var i = 0

  init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
    let o = min(offset ?? i, bytes.count)
    var line = 1
    var column = 1
    for k in 0..<o {
      if bytes[k] == 0x0A {
        line += 1
        column = 1
      } else if bytes[k] & 0xC0 != 0x80 {
        column += 1
      }
    }
    return JSONParseError(message: message, offset: o, line: line, column: column)
  }

  func describe(_ b: UInt8) -> String {
    if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x\(String(b, radix: 16, uppercase: true))"
  }

  mutating func skipWhitespace() {
    while i < bytes.count {
      switch bytes[i] {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return
      }
    }
  }

  mutating func value(depth: Int) throws(JSONParseError) -> JSON {
    guard i < bytes.count else { throw error("unexpected end of input, expected a value") }
    switch bytes[i] {
    case UInt8(ascii: "{"): return try object(depth: depth + 1)
    case UInt8(ascii: "["): return try array(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): try literal("true"); return .bool(true)
    case UInt8(ascii: "f"): try literal("false"); return .bool(false)
    case UInt8(ascii: "n"): try literal("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw error("unexpected \(describe(bytes[i])), expected a value")
    }
  }

  mutating func literal(_ word: StaticString) throws(JSONParseError) {
    let start = i
    let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
    for b in w {
      guard i < bytes.count, bytes[i] == b else { throw error("invalid literal, expected '\(word)'", at: start) }
      i += 1
    }
  }

  mutating func object(depth: Int) throws(JSONParseError) -> JSON {
    if depth > maxDepth { throw error("nesting is deeper than \(maxDepth) levels") }
    i += 1
    var object = JSONObject()
    skipWhitespace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
      i += 1
      return .object(object)
    }
    while true {
      skipWhitespace()
      guard i < bytes.count else { throw error("unexpected end of input in an object") }
      guard bytes[i] == UInt8(ascii: "\"") else {
        throw error("unexpected \(describe(bytes[i])), expected a member name in double quotes")
      }
      let key = try string()
      skipWhitespace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
        throw error(
          i < bytes.count ? "unexpected \(describe(bytes[i])), expected ':'" : "unexpected end of input, expected ':'")
      }
      i += 1
      skipWhitespace()
      object[key] = try value(depth: depth)
      skipWhitespace()
      guard i < bytes.count else { throw error("unexpected end of input in an object, expected ',' or '}'") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
      throw error("unexpected \(describe(bytes[i])), expected ',' or '}'")
    }
  }

  mutating func array(depth: Int) throws(JSONParseError) -> JSON {
    if depth > maxDepth { throw error("nesting is deeper than \(maxDepth) levels") }
    i += 1
    var items: [JSON] = []
    skipWhitespace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
      i += 1
      return .array(items)
    }
    while true {
      skipWhitespace()
      items.append(try value(depth: depth))
      skipWhitespace()
      guard i < bytes.count else { throw error("unexpected end of input in an array, expected ',' or ']'") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
      throw error("unexpected \(describe(bytes[i])), expected ',' or ']'")
    }
  }

  mutating func hex4() throws(JSONParseError) -> UInt32 {
    guard i + 4 <= bytes.count else { throw error("incomplete \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[i]
      let d: UInt32
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
      default: throw error("invalid hex digit \(describe(b)) in \\u escape")
      }
      v = v << 4 | d
      i += 1
    }
    return v
  }

  mutating func string() throws(JSONParseError) -> String {
    let start = i
    i += 1
    // Fast path: no escapes.
    var j = i
    while j < bytes.count {
      let b = bytes[j]
      if b == UInt8(ascii: "\"") {
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<j]), as: UTF8.self)
        i = j + 1
        return s
      }
      if b == UInt8(ascii: "\\") || b < 0x20 { break }
      j += 1
    }
    var out: [UInt8] = Array(bytes[i..<j])
    i = j
    while true {
      guard i < bytes.count else { throw error("unterminated string", at: start) }
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        return String(decoding: out, as: UTF8.self)
      }
      if b < 0x20 { throw error("control character \(describe(b)) in a string must be escaped") }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        i += 1
        continue
      }
      i += 1
      guard i < bytes.count else { throw error("unterminated string", at: start) }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
          // A high surrogate must be followed by an escaped low surrogate.
          if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
            let save = i
            i += 2
            let low = try hex4()
            if (0xDC00...0xDFFF).contains(low) {
              scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else {
              i = save
              scalar = 0xFFFD
            }
          } else {
            scalar = 0xFFFD
          }
        } else if (0xDC00...0xDFFF).contains(scalar) {
          scalar = 0xFFFD
        }
        out.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
      default:
        throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: i - 2)
      }
    }
  }

  mutating func number() throws(JSONParseError) -> JSON {
    let start = i
    var isInteger = true
    if bytes[i] == UInt8(ascii: "-") { i += 1 }
    func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }
    guard isDigit(i) else { throw error("invalid number: expected a digit", at: i) }
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
      if isDigit(i) { throw error("invalid number: leading zero", at: start) }
    } else {
      while isDigit(i) { i += 1 }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      isInteger = false
      i += 1
      guard isDigit(i) else { throw error("invalid number: expected a digit after '.'", at: i) }
      while isDigit(i) { i += 1 }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      isInteger = false
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard isDigit(i) else { throw error("invalid number: expected a digit in the exponent", at: i) }
      while isDigit(i) { i += 1 }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    if isInteger, let v = Int(text) { return .int(v) }
    guard let d = Double(text) else { throw error("invalid number", at: start) }
    return .double(d)
  }
}
