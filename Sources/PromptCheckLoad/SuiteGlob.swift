import Foundation
import PromptCheckCore

/// `suites:` globs: `*` and `?` within a path segment, `**` across segments, `[…]` classes.
enum SuiteGlob {
  /// The files (relative to `directory`, sorted) that match any glob; a glob is relative to `directory`.
  static func files(matching globs: [String], in directory: String) -> [String] {
    var found = Set<String>()
    for glob in globs {
      let base = literalPrefix(glob)
      let root = base.isEmpty ? directory : (directory as NSString).appendingPathComponent(base)
      guard let regex = try? NSRegularExpression(pattern: "^" + pattern(glob) + "$"),
        let e = FileManager.default.enumerator(atPath: root)
      else { continue }
      while let f = e.nextObject() as? String {
        let rel = base.isEmpty ? f : base + "/" + f
        if regex.firstMatch(in: rel, range: NSRange(location: 0, length: rel.utf16.count)) != nil { found.insert(rel) }
      }
    }
    return found.sorted()
  }

  /// The folders before the first wildcard (`prompts/support/*.yaml` → `prompts/support`).
  static func literalPrefix(_ glob: String) -> String {
    var parts: [Substring] = []
    for part in glob.split(separator: "/", omittingEmptySubsequences: false) {
      if part.contains(where: { "*?[".contains($0) }) { break }
      parts.append(part)
    }
    if parts.count == glob.split(separator: "/", omittingEmptySubsequences: false).count { parts.removeLast() }
    return parts.joined(separator: "/")
  }

  /// The glob as an ICU pattern.
  static func pattern(_ glob: String) -> String {
    var out = ""
    var chars = Array(glob)[...]
    while let c = chars.first {
      chars = chars.dropFirst()
      switch c {
      case "*":
        if chars.first == "*" {
          chars = chars.dropFirst()
          if chars.first == "/" {
            chars = chars.dropFirst()
            out += "(?:.*/)?"
          } else {
            out += ".*"
          }
        } else {
          out += "[^/]*"
        }
      case "?": out += "[^/]"
      case "[":
        var cls = "["
        while let d = chars.first, d != "]" {
          cls += d == "\\" ? "\\\\" : String(d)
          chars = chars.dropFirst()
        }
        chars = chars.dropFirst()
        out += cls + "]"
      default: out += NSRegularExpression.escapedPattern(for: String(c))
      }
    }
    return out
  }
}
