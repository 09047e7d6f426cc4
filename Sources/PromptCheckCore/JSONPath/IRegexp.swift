import Foundation

/// An RFC 9485 I-Regexp, checked against its grammar and translated into an
/// ICU pattern for `NSRegularExpression`. The translation fixes the places
/// where ICU differs: `.` matches any character but `\n` and `\r` (ICU's also
/// stops at U+2028/U+2029/U+0085), `^` and `$` outside a class anchor at the
/// start and end of the whole string (as the RFC 9535 compliance suite
/// expects; ICU's `$` would also match before a final newline), and `match`
/// is anchored at both ends of the whole string.
struct IRegexp: @unchecked Sendable {
  // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
  let anchored: NSRegularExpression
  let unanchored: NSRegularExpression
  /// The I-Regexp as written, for messages.
  let pattern: String

  struct SyntaxError: Error {
    var message: String
    var offset: Int
  }

  init(_ pattern: String) throws {
    var t = Translator(Array(pattern.unicodeScalars))
    let icu = try t.translate()
    anchored = try NSRegularExpression(pattern: "\\A(?:" + icu + ")\\z")
    unanchored = try NSRegularExpression(pattern: icu)
    self.pattern = pattern
  }

  func matchesEntirely(_ s: String, limit: Duration, deadline: ContinuousClock.Instant) throws(RegexTimeoutError)
    -> Bool
  {
    try RegexGuard.firstMatch(anchored, pattern: pattern, in: s, limit: limit, deadline: deadline) != nil
  }

  func matchesSomewhere(_ s: String, limit: Duration, deadline: ContinuousClock.Instant) throws(RegexTimeoutError)
    -> Bool
  {
    try RegexGuard.firstMatch(unanchored, pattern: pattern, in: s, limit: limit, deadline: deadline) != nil
  }

  struct Translator {
    let s: [Unicode.Scalar]
    var i = 0
    var depth = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    func fail(_ m: String) -> SyntaxError { SyntaxError(message: m, offset: i) }

    static func escaped(_ u: Unicode.Scalar) -> String {
      if u.properties.isAlphabetic && u.isASCII || ("0"..."9").contains(u) { return String(u) }
      return "\\x{" + String(u.value, radix: 16) + "}"
    }

    mutating func translate() throws -> String {
      let out = try regexp()
      if i < s.count { throw fail("unexpected '\(Character(s[i]))'") }
      return out
    }

    mutating func regexp() throws -> String {
      var out = try branch()
      while peek == "|" {
        i += 1
        out += "|" + (try branch())
      }
      return out
    }

    mutating func branch() throws -> String {
      var out = ""
      while let u = peek, u != "|", u != ")" {
        out += try piece()
      }
      return out
    }

    mutating func piece() throws -> String {
      var out = try atom()
      guard let u = peek else { return out }
      switch u {
      case "*", "+", "?":
        i += 1
        out.unicodeScalars.append(u)
      case "{":
        i += 1
        let low = digits()
        guard !low.isEmpty else { throw fail("expected a number in '{}'") }
        var q = "{" + low
        if peek == "," {
          i += 1
          q += ","
          let high = digits()
          if !high.isEmpty {
            guard let l = Int(low), let h = Int(high), l <= h else { throw fail("bad quantifier range") }
            q += high
          }
        }
        guard peek == "}" else { throw fail("expected '}'") }
        i += 1
        out += q + "}"
      default: break
      }
      return out
    }

    mutating func digits() -> String {
      var d = ""
      while let u = peek, ("0"..."9").contains(u) {
        d.unicodeScalars.append(u)
        i += 1
      }
      return d
    }

    mutating func atom() throws -> String {
      guard let u = peek else { throw fail("unexpected end of pattern") }
      switch u {
      case "(":
        depth += 1
        if depth > 100 { throw fail("groups nested too deeply") }
        i += 1
        let inner = try regexp()
        guard peek == ")" else { throw fail("expected ')'") }
        i += 1
        depth -= 1
        return "(?:" + inner + ")"
      case ".":
        i += 1
        return "[^\\n\\r]"
      case "^":
        i += 1
        return "\\A"
      case "$":
        i += 1
        return "\\z"
      case "[":
        return try charClassExpression()
      case "\\":
        return try escape(inClass: false)
      case ")", "*", "+", "?", "{", "}", "]", "|":
        throw fail("unexpected '\(Character(u))'")
      default:
        i += 1
        return Self.escaped(u)
      }
    }

    /// `\` followed by a single-character escape or a category escape.
    mutating func escape(inClass: Bool) throws -> String {
      i += 1
      guard let e = peek else { throw fail("pattern ends with '\\'") }
      i += 1
      switch e {
      case "(", ")", "*", "+", ",", "-", ".", "?", "[", "\\", "]", "^", "{", "|", "}":
        if e == "," { throw fail("invalid escape '\\,'") }
        return Self.escaped(e)
      case "n": return "\\n"
      case "r": return "\\r"
      case "t": return "\\t"
      case "p", "P":
        guard peek == "{" else { throw fail("expected '{' after '\\\(e)'") }
        i += 1
        var name = ""
        while let c = peek, c != "}" {
          name.unicodeScalars.append(c)
          i += 1
        }
        guard peek == "}" else { throw fail("expected '}'") }
        i += 1
        guard Self.categories.contains(name) else { throw fail("unknown category '\(name)'") }
        return "\\\(e){\(name)}"
      default:
        throw fail("invalid escape '\\\(Character(e))'")
      }
    }

    static let categories: Set<String> = [
      "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No",
      "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Z", "Zl", "Zp", "Zs",
      "S", "Sc", "Sk", "Sm", "So", "C", "Cc", "Cf", "Cn", "Co",
    ]

    mutating func charClassExpression() throws -> String {
      i += 1  // [
      var out = "["
      if peek == "^" {
        i += 1
        out += "^"
      }
      var first = true
      while true {
        guard let u = peek else { throw fail("unterminated '['") }
        if u == "]" {
          if first { throw fail("empty character class") }
          i += 1
          return out + "]"
        }
        if u == "-" {
          // A literal '-' only first or last.
          let isLast = i + 1 < s.count && s[i + 1] == "]"
          guard first || isLast else { throw fail("'-' must be first or last in a class") }
          i += 1
          out += "\\x{2d}"
          first = false
          continue
        }
        if u == "\\", i + 1 < s.count, s[i + 1] == "p" || s[i + 1] == "P" {
          out += try escape(inClass: true)
          first = false
          continue
        }
        let low = try classChar()
        if peek == "-", i + 1 < s.count, s[i + 1] != "]" {
          i += 1
          let high = try classChar()
          guard low.1.value <= high.1.value else { throw fail("bad range in character class") }
          out += low.0 + "-" + high.0
        } else {
          out += low.0
        }
        first = false
      }
    }

    mutating func classChar() throws -> (String, Unicode.Scalar) {
      guard let u = peek else { throw fail("unterminated '['") }
      switch u {
      case "[", "]", "-": throw fail("'\(Character(u))' must be escaped in a class")
      case "\\":
        i += 1
        guard let e = peek else { throw fail("pattern ends with '\\'") }
        i += 1
        switch e {
        case "n": return ("\\n", "\n")
        case "r": return ("\\r", "\r")
        case "t": return ("\\t", "\t")
        case "(", ")", "*", "+", "-", ".", "?", "[", "\\", "]", "^", "{", "|", "}":
          return (Self.escaped(e), e)
        default: throw fail("invalid escape '\\\(Character(e))'")
        }
      default:
        i += 1
        return (Self.escaped(u), u)
      }
    }
  }
}
