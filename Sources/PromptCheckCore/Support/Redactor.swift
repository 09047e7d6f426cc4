import Synchronization

/// Replaces every occurrence of the run's secrets with a mark: the values of the providers'
/// `api_key_env` variables become `<redacted>`, the values of `${VAR}`s expanded in a `base_url`
/// become `${VAR}` again (a cassette stores the reference, not the value). An occurrence is
/// found raw and in the encodings an answer, a URL or a log line may carry it in: JSON-escaped
/// (`\"`, `\\`, `\/`, `\uXXXX`, in any mix, and escaped twice, as in a tool call's arguments
/// inside a stream event) and URL-encoded (`%2F` in either case, `+` for a space). The runner
/// applies it where an answer enters the run; cassettes are written and matched through it.
package struct Redactor: Sendable {
  package static let mark = "<redacted>"
  /// Secrets shorter than this are not redacted (they would mangle ordinary text).
  static let minimumLength = 4

  /// A value and what stands for it in what is written.
  package struct Secret: Sendable, Equatable {
    package var value: String
    package var replacement: String
    /// The value as bytes, and its JSON-escaped spellings (`/` as is and as `\/`), to find it
    /// escaped twice.
    package let bytes: [UInt8]
    let escaped: [[UInt8]]
    /// The value, then each escaped spelling that differs from it.
    var needles: [[UInt8]] { [bytes] + escaped }

    package init(value: String, replacement: String) {
      self.value = value
      self.replacement = replacement
      bytes = Array(value.utf8)
      let once = String(JSON.string(value).serialized().dropFirst().dropLast())
      let slashed = once.replacingOccurrences(of: "/", with: "\\/")
      escaped = Array(Set([once, slashed])).sorted().map { Array($0.utf8) }.filter { $0 != Array(value.utf8) }
    }
  }

  package let entries: [Secret]

  package var secrets: [String] { entries.map(\.value) }

  package init(secrets: [String], references: [(name: String, value: String)] = []) {
    var seen = Set<String>()
    var entries: [Secret] = []
    for s in secrets where s.count >= Self.minimumLength && seen.insert(s).inserted {
      entries.append(Secret(value: s, replacement: Self.mark))
    }
    for r in references where r.value.count >= Self.minimumLength && seen.insert(r.value).inserted {
      entries.append(Secret(value: r.value, replacement: "${\(r.name)}"))
    }
    // Longest first, so a secret that contains another is replaced whole.
    self.entries = entries.sorted { $0.bytes.count > $1.bytes.count }
  }

  /// The secrets of every provider of `config` found in `environment`, and the variables
  /// expanded into their base URLs.
  package init(
    providers: [Provider], environment: [String: String], references: [(name: String, value: String)] = []
  ) {
    self.init(
      secrets: providers.compactMap { p in p.apiKeyEnv.flatMap { environment[$0] } }, references: references)
  }

  package static let none = Redactor(secrets: [])

  package var isEmpty: Bool { entries.isEmpty }

  package func callAsFunction(_ s: String) -> String {
    guard !entries.isEmpty else { return s }
    var bytes = Array(s.utf8)
    var changed = false
    for e in entries {
      // Raw or encoded once; then its JSON-escaped spelling, raw or encoded (escaped twice).
      for needle in e.needles {
        let ranges = Self.occurrences(of: needle, in: bytes)
        if ranges.isEmpty { continue }
        changed = true
        bytes = Self.replacing(ranges, in: bytes, with: Array(e.replacement.utf8))
      }
    }
    return changed ? String(decoding: bytes, as: UTF8.self) : s
  }

  package func callAsFunction(_ value: JSON) -> JSON {
    guard !entries.isEmpty else { return value }
    switch value {
    case .string(let s): return .string(self(s))
    case .array(let a): return .array(a.map { self($0) })
    case .object(let o): return .object(JSONObject(o.members.map { (self($0.key), self($0.value)) }))
    default: return value
    }
  }

  package func callAsFunction(_ c: Completion) -> Completion {
    guard !entries.isEmpty else { return c }
    var r = c
    r.content = self(c.content)
    r.reasoning = self(c.reasoning)
    r.toolCalls = c.toolCalls.map { call in
      var t = call
      t.name = self(call.name)
      t.arguments = self(call.arguments)
      return t
    }
    r.response = self(c.response)
    return r
  }

  // MARK: Finding a secret in its encodings

  /// The byte ranges of `text` that spell `needle`, each of its characters raw or encoded.
  package static func occurrences(of needle: [UInt8], in text: [UInt8]) -> [Range<Int>] {
    guard let first = needle.first, !text.isEmpty else { return [] }
    var out: [Range<Int>] = []
    var i = 0
    while i < text.count {
      let b = text[i]
      // Only a raw first byte or the start of an encoding can begin an occurrence.
      if b == first || b == 92 || b == 37 || (b == 43 && first == 32),
        case .whole(let end) = match(needle, in: text, at: i)
      {
        out.append(i..<end)
        i = end
      } else {
        i += 1
      }
    }
    return out
  }

  enum Match: Equatable {
    /// An occurrence that ends here.
    case whole(Int)
    /// The text ends while it still spells the start of one.
    case partial
  }

  /// Whether an occurrence of `needle` starts at `start`: where it ends, or that the text ends
  /// inside one; nil when none starts there. A `%` or a backslash in the text may be the character
  /// itself or the start of its encoding: both are tried.
  static func match(_ needle: [UInt8], in text: [UInt8], at start: Int) -> Match? {
    match(needle, 0, text, start)
  }

  private static func match(_ needle: [UInt8], _ j: Int, _ text: [UInt8], _ i: Int) -> Match? {
    if j == needle.count { return .whole(i) }
    guard i < text.count else { return .partial }
    let want = needle[j]
    let b = text[i]
    var found: Match? = nil
    func consider(_ m: Match?) {
      // A whole occurrence wins over a partial one.
      if case .whole = m { found = m } else if found == nil { found = m }
    }
    if b == want || (b == 43 && want == 32) {  // itself, or '+' for a space (a form-encoded query)
      consider(match(needle, j + 1, text, i + 1))
      if case .whole = found { return found }
    }
    let rest = text.count - i
    if b == 37 {
      if rest < 3 {
        consider(.partial)
      } else if let h = hex(text[i + 1]), let l = hex(text[i + 2]), h << 4 | l == want {
        consider(match(needle, j + 1, text, i + 3))
      }
      return found
    }
    guard b == 92 else { return found }
    guard rest >= 2 else {
      consider(.partial)
      return found
    }
    let e = text[i + 1]
    let simple: UInt8? =
      switch e {
      case 34, 92, 47: e  // \" \\ \/
      case 98: 8
      case 102: 12
      case 110: 10
      case 114: 13
      case 116: 9
      default: nil
      }
    if let simple {
      if simple == want { consider(match(needle, j + 1, text, i + 2)) }
      return found
    }
    // \uXXXX: one code point, compared with the needle's character at j (1 to 4 bytes).
    guard e == 117 else { return found }
    guard rest >= 6 else {
      consider(.partial)
      return found
    }
    var code: UInt32 = 0
    for k in 2..<6 {
      guard let d = hex(text[i + k]) else { return found }
      code = code << 4 | UInt32(d)
    }
    let length = want < 0x80 ? 1 : want >= 0xF0 ? 4 : want >= 0xE0 ? 3 : 2
    if j + length <= needle.count, let scalar = Unicode.Scalar(code),
      Array(String(Character(scalar)).utf8) == Array(needle[j..<(j + length)])
    {
      consider(match(needle, j + length, text, i + 6))
    }
    return found
  }

  /// Where, in `text`, the longest tail that may be the start of a secret begins (`text.count`
  /// when none may be): what a stream must hold back until more comes.
  package func heldTail(_ text: [UInt8], within window: Int) -> Int {
    for start in max(0, text.count - window)..<text.count {
      for e in entries {
        for needle in e.needles where Self.match(needle, in: text, at: start) == .partial {
          return start
        }
      }
    }
    return text.count
  }

  static func hex(_ b: UInt8) -> UInt8? {
    switch b {
    case 48...57: return b - 48
    case 65...70: return b - 55
    case 97...102: return b - 87
    default: return nil
    }
  }

  static func replacing(_ ranges: [Range<Int>], in bytes: [UInt8], with mark: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var last = 0
    for r in ranges {
      out += bytes[last..<r.lowerBound]
      out += mark
      last = r.upperBound
    }
    out += bytes[last...]
    return out
  }
}
