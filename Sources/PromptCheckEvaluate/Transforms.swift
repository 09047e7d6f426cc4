import PromptCheckCore

/// `transform:` (README "Shaping before checking"). Pure.
extension Transform {
  /// The shaped text, or why it could not be shaped.
  package func apply(_ text: String, deadline: Duration = RegexGuard.limit) -> Result<String, JudgeError> {
    switch self {
    case .stripCodeFence:
      return .success(Self.stripCodeFence(text))
    case .extractJSON:
      guard let json = Self.firstJSON(in: text) else {
        return .failure("extract-json found no JSON object or array; it starts \(Excerpt.start(text))")
      }
      return .success(json)
    case .regexCapture(let regex):
      do {
        guard let groups = try regex.firstMatchGroups(in: text, deadline: deadline) else {
          return .failure("regex-capture /\(regex.pattern)/ matched nothing; it starts \(Excerpt.start(text))")
        }
        return .success(groups.count > 1 ? groups[1] ?? "" : groups[0] ?? "")
      } catch {
        return .failure("regex-capture: \(error.description)")
      }
    case .trim:
      return .success(text.trimmingCharacters(in: .whitespacesAndNewlines))
    case .jsonPath(let path, let shown):
      guard let doc = try? JSON.parse(text) else {
        return .failure("json-path \(shown): the text is not JSON; it starts \(Excerpt.start(text))")
      }
      guard let node = (try? path.select(doc, deadline: deadline))?.first else {
        return .failure("json-path \(shown) found nothing in \(Excerpt.json(doc))")
      }
      return .success(node.stringValue ?? node.serialized())
    }
  }

  /// Applies transforms in order; the first failure stops.
  package static func apply(_ transforms: [Transform], to text: String) -> Result<String, JudgeError> {
    var current = text
    for t in transforms {
      switch t.apply(current) {
      case .success(let s): current = s
      case .failure(let why): return .failure(why)
      }
    }
    return .success(current)
  }

  /// The text inside the first ``` fence (its info string dropped); the text trimmed when there is none.
  static func stripCodeFence(_ text: String) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let open = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("```") }) else {
      return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let rest = lines[(open + 1)...]
    let close = rest.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("```") }) ?? lines.endIndex
    return lines[(open + 1)..<close].joined(separator: "\n")
  }

  /// The first complete JSON object or array in the text: one pass pairs every bracket with the
  /// one that closes it (quotes count only inside brackets, so prose around the JSON may hold
  /// stray ones), then the pairs are tried in order of their start. Linear in the text, so a
  /// hostile answer (a megabyte of `{`) finds nothing quickly.
  static func firstJSON(in text: String) -> String? {
    let bytes = Array(text.utf8)
    var open: [Int] = []
    var pairs: [(start: Int, end: Int)] = []
    var inString = false
    var escaped = false
    for (i, b) in bytes.enumerated() {
      if inString {
        if escaped {
          escaped = false
        } else if b == UInt8(ascii: "\\") {
          escaped = true
        } else if b == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch b {
      case UInt8(ascii: "\"") where !open.isEmpty:
        inString = true
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        open.append(i)
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        guard let start = open.popLast() else { continue }
        // `{` closes with `}` and `[` with `]`; a mismatched pair is no JSON.
        if (bytes[start] == UInt8(ascii: "{")) == (b == UInt8(ascii: "}")) { pairs.append((start, i)) }
      default:
        break
      }
    }
    pairs.sort { $0.start < $1.start }
    for p in pairs {
      let candidate = String(decoding: bytes[p.start...p.end], as: UTF8.self)
      if (try? JSON.parse(candidate)) != nil { return candidate }
    }
    return nil
  }
}
