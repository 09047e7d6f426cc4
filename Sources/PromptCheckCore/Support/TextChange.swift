/// Where two texts differ, shown for a person: short single-line values side by side
/// (`recorded "a", now "b"`), long or multi-line ones as the first differing line with its
/// line number, two lines of context, and the changed words marked `[-old-]` and `{+new+}`.
package enum TextChange {
  /// Values up to this many characters, on one line, are shown whole.
  static let shortLimit = 60

  package static func describe(_ path: String, recorded old: String, now new: String) -> String {
    if !old.contains("\n") && !new.contains("\n") && old.unicodeScalars.count <= shortLimit
      && new.unicodeScalars.count <= shortLimit
    {
      return "\(path): recorded \(JSON.quoted(old)), now \(JSON.quoted(new))"
    }
    let a = old.split(separator: "\n", omittingEmptySubsequences: false)
    let b = new.split(separator: "\n", omittingEmptySubsequences: false)
    var i = 0
    while i < a.count, i < b.count, a[i] == b[i] { i += 1 }
    let width = String(max(a.count, b.count)).count
    func number(_ n: Int) -> String { String(repeating: " ", count: width - String(n).count) + String(n) }
    var out = "\(path) differs at line \(i + 1) of \(b.count) (recorded: \(a.count) lines):\n"
    for k in max(0, i - 2)..<i { out += "    \(number(k + 1)) | \(b[k])\n" }
    let oldLine = i < a.count ? String(a[i]) : nil
    let newLine = i < b.count ? String(b[i]) : nil
    let (marked1, marked2) = markWords(oldLine ?? "", newLine ?? "")
    out += "  - \(number(i + 1)) | " + (oldLine == nil ? "(no such line)" : marked1) + "\n"
    out += "  + \(number(i + 1)) | " + (newLine == nil ? "(no such line)" : marked2) + "\n"
    if i + 1 < b.count {
      for k in (i + 1)..<min(b.count, i + 3) { out += "    \(number(k + 1)) | \(b[k])\n" }
    }
    return String(out.dropLast())
  }

  /// The two lines with their differing middle words marked (common leading and trailing words kept).
  static func markWords(_ old: String, _ new: String) -> (String, String) {
    let x = words(old)
    let y = words(new)
    var prefix = 0
    while prefix < x.count, prefix < y.count, x[prefix] == y[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < x.count - prefix, suffix < y.count - prefix, x[x.count - 1 - suffix] == y[y.count - 1 - suffix] {
      suffix += 1
    }
    func mark(_ w: [Substring], _ open: String, _ close: String) -> String {
      let head = w[..<prefix].joined()
      let middle = w[prefix..<(w.count - suffix)].joined()
      let tail = w[(w.count - suffix)...].joined()
      return head + (middle.isEmpty ? "" : open + middle + close) + tail
    }
    return (mark(x, "[-", "-]"), mark(y, "{+", "+}"))
  }

  /// Words and the blanks between them, in order (joined, they give the line back); the
  /// terminal's word marks and the HTML report's `<mark>`s split lines the same way.
  package static func words(_ s: String) -> [Substring] {
    var out: [Substring] = []
    var start = s.startIndex
    var inBlank: Bool?
    for i in s.indices {
      let blank = s[i].isWhitespace
      if let b = inBlank, b != blank {
        out.append(s[start..<i])
        start = i
      }
      inBlank = blank
    }
    if start < s.endIndex { out.append(s[start...]) }
    return out
  }
}

extension TextChange {
  /// A unified diff with each removed/added line pair's changed words marked: coloured on a
  /// terminal, `[-old-]` / `{+new+}` otherwise.
  package static func wordMarked(_ diff: String, color: Bool) -> String {
    var lines = diff.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var i = 0
    while i < lines.count {
      var minus: [Int] = []
      while i < lines.count, lines[i].hasPrefix("-"), !lines[i].hasPrefix("---") {
        minus.append(i)
        i += 1
      }
      var plus: [Int] = []
      while i < lines.count, lines[i].hasPrefix("+"), !lines[i].hasPrefix("+++") {
        plus.append(i)
        i += 1
      }
      for (m, p) in zip(minus, plus) {
        let (a, b) = markWords(String(lines[m].dropFirst()), String(lines[p].dropFirst()))
        if color {
          lines[m] =
            "\u{1B}[31m-"
            + a.replacingOccurrences(of: "[-", with: "\u{1B}[7m").replacingOccurrences(of: "-]", with: "\u{1B}[27m")
            + "\u{1B}[0m"
          lines[p] =
            "\u{1B}[32m+"
            + b.replacingOccurrences(of: "{+", with: "\u{1B}[7m").replacingOccurrences(of: "+}", with: "\u{1B}[27m")
            + "\u{1B}[0m"
        } else {
          lines[m] = "-" + a
          lines[p] = "+" + b
        }
      }
      if minus.isEmpty && plus.isEmpty { i += 1 }
    }
    return lines.joined(separator: "\n")
  }
}
