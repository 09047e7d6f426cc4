/// A position in a source file. Lines and columns are 1-based, as compilers print them.
package struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
  package var file: String
  package var line: Int
  package var column: Int

  package init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  package var description: String { "\(file):\(line):\(column)" }

  package static func < (a: SourceLocation, b: SourceLocation) -> Bool {
    (a.file, a.line, a.column) < (b.file, b.line, b.column)
  }
}

/// A problem found in a user's file, reported compiler-style. The one thrown type not named
/// `…Error`: it is also a warning or a note, and every stage collects it rather than throws it.
package struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
  package enum Severity: String, Sendable { case error, warning, note }

  package var location: SourceLocation?
  package var severity: Severity
  package var message: String

  package init(_ message: String, at location: SourceLocation?, severity: Severity = .error) {
    self.message = message
    self.location = location
    self.severity = severity
  }

  /// `path:line:col: error: message` (or `error: message` with no location).
  package var description: String {
    if let location { return "\(location): \(severity.rawValue): \(message)" }
    return "\(severity.rawValue): \(message)"
  }

  /// The one-line form followed by the source line and a caret under the column.
  /// A long line is shown as a window of about 100 characters around the column.
  package func rendered(source: String?) -> String {
    var out = description
    guard let location, let source, let text = Self.line(location.line, of: source) else { return out }
    var scalars = Array(text.unicodeScalars)
    var column = max(location.column - 1, 0)
    let window = 100
    if scalars.count > window {
      let start = max(0, min(column - window / 2, scalars.count - window))
      let end = min(scalars.count, start + window)
      var shown = Array(scalars[start..<end])
      var shift = start
      if start > 0 {
        shown.insert("…", at: 0)
        shift -= 1
      }
      if end < scalars.count { shown.append("…") }
      scalars = shown
      column -= shift
    }
    out += "\n" + String(String.UnicodeScalarView(scalars)) + "\n"
    // Keep tabs so that the caret lines up under the same glyph.
    var caret = ""
    for ch in scalars.prefix(column) { caret.unicodeScalars.append(ch == "\t" ? "\t" : " ") }
    out += caret + "^"
    return out
  }

  static func line(_ number: Int, of source: String) -> String? {
    var current = 1
    var start = source.startIndex
    var i = source.startIndex
    while i < source.endIndex {
      if source[i] == "\n" || source[i] == "\r\n" {
        if current == number { return String(source[start..<i]) }
        current += 1
        start = source.index(after: i)
      }
      i = source.index(after: i)
    }
    return current == number ? String(source[start..<source.endIndex]) : nil
  }

  /// Sorted by location (stable: problems at one place keep the order they were found in).
  package static func inFileOrder(_ ds: [Diagnostic]) -> [Diagnostic] {
    ds.enumerated().sorted {
      let (a, b) = ($0.element.location, $1.element.location)
      if let a, let b, a != b { return a < b }
      return $0.offset < $1.offset
    }.map(\.element)
  }
}

/// Thrown when loading finds problems; holds every one of them.
package struct DiagnosticError: Error, Sendable, CustomStringConvertible {
  package var diagnostics: [Diagnostic]
  package init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
  package var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics in the order they are found, dropping exact repeats.
package struct DiagnosticSink {
  package private(set) var diagnostics: [Diagnostic] = []
  private var seen: Set<Diagnostic> = []

  package mutating func error(_ message: String, at location: SourceLocation?) {
    append(Diagnostic(message, at: location))
  }

  mutating func append(_ d: Diagnostic) {
    if seen.insert(d).inserted { diagnostics.append(d) }
  }

  package mutating func append(contentsOf ds: [Diagnostic]) { ds.forEach { append($0) } }

  package var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(diagnostics: [Diagnostic] = []) {
    self.diagnostics = diagnostics
  }
}

/// The closest candidate by edit distance, for "did you mean …?" hints.
package func closestMatch(to word: String, in candidates: [String]) -> String? {
  let w = Array(word.lowercased().unicodeScalars)
  var best: (String, Int)?
  for c in candidates {
    let d = editDistance(w, Array(c.lowercased().unicodeScalars))
    if d < best?.1 ?? Int.max { best = (c, d) }
  }
  guard let (match, distance) = best else { return nil }
  let limit = max(2, min(w.count, match.count) / 2)
  return distance <= limit ? match : nil
}

func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
