import Foundation

/// A regex that ran past its deadline on some text. Every regex that meets model
/// output or a user's document (the `regex` assertion, JSON-path `match()` and
/// `search()`, golden `replace` normalisers, `query`) runs through `RegexGuard`,
/// so a catastrophic pattern stops with this error instead of hanging the run.
package struct RegexTimeoutError: Error, Sendable, Equatable, CustomStringConvertible {
  package var pattern: String
  package var limit: Duration
  /// Code points of the text it was matching.
  package var textLength: Int

  package var description: String {
    "the regex /\(pattern)/ ran longer than \(RegexGuard.seconds(limit)) on a text of \(textLength) characters and was stopped; "
      + "simplify it (nested quantifiers such as (a*)* or (a+)+ backtrack exponentially)"
  }
}

/// The one guarded matcher: `NSRegularExpression` with `.reportProgress`, checked against a deadline.
package enum RegexGuard {
  /// The deadline a regex gets on one text (README "Assertions": regex).
  package static let limit: Duration = .seconds(1)

  static func seconds(_ d: Duration) -> String {
    NumberText.format(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) + " s"
  }

  /// Calls `body` with each match in order until it returns false; throws past `deadline`.
  static func enumerate(
    _ regex: NSRegularExpression, pattern: String, in s: String, limit: Duration, deadline: ContinuousClock.Instant,
    _ body: (NSTextCheckingResult) -> Bool
  ) throws(RegexTimeoutError) {
    let clock = ContinuousClock()
    var timedOut = clock.now > deadline
    var progress = 0
    if !timedOut {
      // corelibs declares the block escaping though it runs synchronously.
      withoutActuallyEscaping(body) { body in
        regex.enumerateMatches(in: s, options: [.reportProgress], range: NSRange(location: 0, length: s.utf16.count)) {
          match, _, stop in
          if let match {
            if !body(match) { stop.pointee = true }
          } else {
            // A progress call: the clock is read every 16th (they come often on a short text).
            progress &+= 1
            if progress & 15 == 0 && clock.now > deadline {
              timedOut = true
              stop.pointee = true
            }
          }
        }
      }
    }
    if timedOut { throw RegexTimeoutError(pattern: pattern, limit: limit, textLength: s.unicodeScalars.count) }
  }

  /// The UTF-16 range of the first match, or nil.
  static func firstMatch(
    _ regex: NSRegularExpression, pattern: String, in s: String, limit: Duration = limit,
    deadline: ContinuousClock.Instant? = nil
  ) throws(RegexTimeoutError) -> NSRange? {
    var found: NSRange?
    try enumerate(
      regex, pattern: pattern, in: s, limit: limit, deadline: deadline ?? ContinuousClock().now.advanced(by: limit)
    ) {
      found = $0.range
      return false
    }
    return found
  }

  /// Every match replaced by `template` (`$1` style), within the deadline.
  static func replacingMatches(
    _ regex: NSRegularExpression, pattern: String, in s: String, with template: String, limit: Duration = limit
  ) throws(RegexTimeoutError) -> String {
    var matches: [NSTextCheckingResult] = []
    try enumerate(regex, pattern: pattern, in: s, limit: limit, deadline: ContinuousClock().now.advanced(by: limit)) {
      matches.append($0)
      return true
    }
    guard !matches.isEmpty else { return s }
    let source = s as NSString
    var out = ""
    var cursor = 0
    for m in matches {
      out += source.substring(with: NSRange(location: cursor, length: m.range.location - cursor))
      out += regex.replacementString(for: m, in: s, offset: 0, template: template)
      cursor = m.range.location + m.range.length
    }
    out += source.substring(from: cursor)
    return out
  }
}
