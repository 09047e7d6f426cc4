/// Text from outside (a request's path, a model name) made safe for a log line: control
/// characters (an escape sequence that would clear or recolour the terminal, a newline that
/// would forge a log line) are written as `\u{…}`, and the text is cut at `limit` characters.
package enum LogText {
  package static func escaped(_ s: String, limit: Int = 512) -> String {
    var out = ""
    var n = 0
    for scalar in s.unicodeScalars {
      if n >= limit {
        out += "…"
        break
      }
      n += 1
      let v = scalar.value
      if v < 0x20 || v == 0x7F || (0x80..<0xA0).contains(v) || v == 0x2028 || v == 0x2029 {
        out += "\\u{" + String(v, radix: 16) + "}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
