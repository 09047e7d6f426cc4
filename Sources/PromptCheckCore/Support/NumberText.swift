/// The one way numbers are written in messages, the terminal and reports:
/// the shortest text that reads back as the same value, and no `.0` on whole numbers.
package enum NumberText {
  /// `0.05` → "0.05", `1.05` → "1.05", `3.0` → "3", `120` → "120".
  package static func format(_ d: Double) -> String {
    guard d.isFinite else { return d.isNaN ? "NaN" : (d < 0 ? "-infinity" : "infinity") }
    if d.rounded() == d, abs(d) < 1e15 { return String(Int(d)) }
    return "\(d)"
  }

  /// Rounded to at most `digits` decimals, then written as `format` writes it (`0.8234…` → "0.823").
  package static func format(_ d: Double, digits: Int) -> String {
    guard d.isFinite else { return format(d) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return format((d * scale).rounded() / scale)
  }

  /// US dollars to at most 6 decimals, trailing zeros dropped but one: `0.0012`, `2.0`.
  package static func money(_ d: Double) -> String {
    var s = String(format: "%.6f", d)
    while s.hasSuffix("0") && !s.hasSuffix(".0") { s.removeLast() }
    return s
  }
}

/// "1 case", "2 cases".
package func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

extension Array where Element == String {
  /// "a, b or c", for messages that list the accepted words.
  package var listedWithOr: String {
    count < 2 ? (first ?? "") : dropLast().joined(separator: ", ") + " or " + self[count - 1]
  }
}
