import Foundation
import Synchronization

/// A user regex (ICU syntax, as `NSRegularExpression` takes it), compiled once
/// at load time, matched with a deadline so a catastrophic pattern on a huge
/// output stops with an error instead of hanging the run.
package struct CompiledRegex: @unchecked Sendable, CustomStringConvertible {
  // @unchecked: NSRegularExpression is immutable once built and safe to share between threads.
  package let pattern: String
  package let flags: String
  let regex: NSRegularExpression

  package struct CompileError: Error, Sendable { package var message: String }

  /// `flags` from `i m s x`.
  package init(_ pattern: String, flags: String = "") throws(CompileError) {
    var options: NSRegularExpression.Options = []
    for f in flags {
      switch f {
      case "i": options.insert(.caseInsensitive)
      case "m": options.insert(.anchorsMatchLines)
      case "s": options.insert(.dotMatchesLineSeparators)
      case "x": options.insert(.allowCommentsAndWhitespace)
      default: throw CompileError(message: "unknown regex flag '\(f)' (flags are i, m, s, x)")
      }
    }
    let key = flags + "\u{0}" + pattern
    if let compiled = Self.compiled.withLock({ $0[key] }) {
      regex = compiled
    } else {
      let made: NSRegularExpression
      do {
        made = try NSRegularExpression(pattern: pattern, options: options)
      } catch {
        throw CompileError(message: "invalid regex '\(pattern)': \(Self.explain(pattern))")
      }
      Self.compiled.withLock { cache in
        if cache.count < Self.maxCompiled { cache[key] = made }
      }
      regex = made
    }
    self.pattern = pattern
    self.flags = flags
  }

  /// Each pattern (with its flags) compiled once a process: the same assertion in the defaults of
  /// a thousand suite files is loaded a thousand times. (An NSRegularExpression is immutable.)
  /// At most `maxCompiled` are kept; a pattern past them is compiled each time it is loaded.
  private static let compiled = Mutex<[String: NSRegularExpression]>([:])
  static let maxCompiled = 4096

  /// Foundation reports no reason on Linux, so name the usual mistakes ourselves.
  static func explain(_ pattern: String) -> String {
    var depth = 0
    var inClass = false
    var previous: Character?
    var chars = Array(pattern)
    var i = 0
    while i < chars.count {
      let c = chars[i]
      if c == "\\" {
        if i + 1 >= chars.count { return "it ends with a lone backslash" }
        i += 2
        previous = "a"
        continue
      }
      if inClass {
        if c == "]" { inClass = false }
      } else {
        switch c {
        case "[": inClass = true
        case "(": depth += 1
        case ")":
          depth -= 1
          if depth < 0 { return "a ')' has no matching '('" }
        case "*", "+", "?", "{":
          if previous == nil || previous == "(" || previous == "|" {
            return "'\(c)' has nothing before it to repeat"
          }
        default: break
        }
      }
      previous = c
      i += 1
    }
    chars.removeAll()
    if inClass { return "a '[' is not closed" }
    if depth > 0 { return "a '(' is not closed" }
    return "ICU cannot compile it (see the ICU regular-expression syntax)"
  }

  package var description: String { flags.isEmpty ? pattern : "(?\(flags))\(pattern)" }

  /// The UTF-16 range of the first match, or nil; throws past the deadline.
  package func firstMatch(in s: String, deadline: Duration = RegexGuard.limit) throws(RegexTimeoutError) -> Range<
    String.Index
  >? {
    guard let found = try RegexGuard.firstMatch(regex, pattern: description, in: s, limit: deadline),
      let range = Range(found, in: s)
    else { return nil }
    return range
  }

  /// The first match's text and its groups' (nil for a group that did not take part); throws past the deadline.
  package func firstMatchGroups(in s: String, deadline: Duration = RegexGuard.limit) throws(RegexTimeoutError)
    -> [String?]?
  {
    var groups: [String?]?
    try RegexGuard.enumerate(
      regex, pattern: description, in: s, limit: deadline, deadline: ContinuousClock().now.advanced(by: deadline)
    ) { match in
      groups = (0..<match.numberOfRanges).map { i in
        let r = match.range(at: i)
        return r.location == NSNotFound ? nil : Range(r, in: s).map { String(s[$0]) }
      }
      return false
    }
    return groups
  }

  /// Replaces every match (with `$1`-style templates), used by golden normalisers; throws past the deadline.
  package func replacingMatches(in s: String, with template: String, deadline: Duration = RegexGuard.limit)
    throws(RegexTimeoutError)
    -> String
  {
    try RegexGuard.replacingMatches(regex, pattern: description, in: s, with: template, limit: deadline)
  }
}
