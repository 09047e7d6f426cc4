/// Short, single-line excerpts of long texts for failure messages.
package enum Excerpt {
  static let radius = 40

  /// The start of `text`, quoted.
  package static func start(_ text: String, length: Int = 80) -> String {
    let scalars = text.unicodeScalars
    if scalars.count <= length { return JSON.quoted(text) }
    return JSON.quoted(String(String.UnicodeScalarView(scalars.prefix(length)))).dropLast() + "…\""
  }

  /// Text around `range` (a range of `text`), quoted, with ellipses where cut.
  package static func around(_ text: String, _ range: Range<String.Index>) -> String {
    let us = text.unicodeScalars
    let lower = range.lowerBound.samePosition(in: us) ?? us.startIndex
    let upper = range.upperBound.samePosition(in: us) ?? us.endIndex
    let start = us.index(lower, offsetBy: -radius, limitedBy: us.startIndex) ?? us.startIndex
    let end = us.index(upper, offsetBy: radius, limitedBy: us.endIndex) ?? us.endIndex
    var body = JSON.quoted(String(us[start..<end]))
    body.removeFirst()
    body.removeLast()
    return "\"" + (start > us.startIndex ? "…" : "") + body + (end < us.endIndex ? "…" : "") + "\""
  }

  /// Character (code point) offset of an index, for "at character N".
  package static func offset(_ text: String, _ i: String.Index) -> Int {
    text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: i.samePosition(in: text.unicodeScalars) ?? i)
  }

  /// A JSON value, compact, shortened to `length` characters.
  package static func json(_ value: JSON, length: Int = 120) -> String {
    let s = value.serialized()
    let us = s.unicodeScalars
    if us.count <= length { return s }
    return String(String.UnicodeScalarView(us.prefix(length))) + "…"
  }
}
