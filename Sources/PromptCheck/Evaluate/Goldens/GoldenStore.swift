import Foundation

/// Golden files (README "Goldens"): `expectations/golden/SUITE/CASE.txt` (or `.json`).
/// Comparing reads the golden; a missing or different one writes the pending
/// `CASE.txt.new` beside it (or, with `--update-goldens`, the golden itself).
package struct GoldenError: Error, Sendable { package var message: String }

package struct GoldenStore: Sendable {
  /// The golden folder as the user names it (e.g. `expectations/golden`), used in messages.
  package var root: String
  /// The same folder, absolute, for I/O.
  package var absoluteRoot: String
  /// Write goldens directly instead of `.new` files.
  package var update: Bool

  package init(root: String, absoluteRoot: String, update: Bool) {
    self.root = root
    self.absoluteRoot = absoluteRoot
    self.update = update
  }

  package static let volatileResponseFields = ["id", "created", "system_fingerprint"]

  /// The golden file's path, relative to the golden root, for a case and subject.
  package static func relativePath(_ c: PlannedCase, spec: GoldenSpec) -> String {
    "\(c.suite)/\(c.fileStem).\(isJSON(spec) ? "json" : "txt")"
  }

  static func isJSON(_ spec: GoldenSpec) -> Bool {
    spec.subject == .response || spec.normalizers.contains { if case .json = $0 { return true } else { return false } }
  }

  /// The subject as it is stored: normalised, JSON pretty-printed with sorted keys.
  package static func subject(_ spec: GoldenSpec, _ completion: Completion) -> Result<String, GoldenError> {
    var text: String
    switch spec.subject {
    case .output: text = completion.content
    case .reasoning: text = completion.reasoning
    case .response:
      var body = completion.response
      if case .object(var o) = body {
        for f in volatileResponseFields { o[f] = nil }
        body = .object(o)
      }
      text = body.prettyPrinted(keys: .sorted) + "\n"
    }
    return normalize(text, spec.normalizers)
  }

  package static func normalize(_ input: String, _ normalizers: [GoldenSpec.Normalizer]) -> Result<String, GoldenError>
  {
    var text = input
    for n in normalizers {
      switch n {
      case .trim:
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
      case .collapseWhitespace:
        text = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
      case .json:
        do {
          text = try JSON.parse(text).prettyPrinted(keys: .sorted) + "\n"
        } catch {
          return .failure(GoldenError(message: "the golden subject is not valid JSON (\(error.description))"))
        }
      case .replace(let regex, let with):
        do {
          text = try regex.replacingMatches(in: text, with: with)
        } catch {
          return .failure(GoldenError(message: "normalize replace: \(error.description)"))
        }
      }
    }
    return .success(text)
  }

  package struct Comparison: Sendable {
    package var report: GoldenReport
    /// A failing finding when the golden is missing or differs.
    package var finding: Finding?
    package var notes: [String] = []
    /// A golden that could not be written: the case errors (it is not a behaviour change).
    package var error: String?
  }

  package func compare(_ c: PlannedCase, spec: GoldenSpec, completion: Completion) -> Comparison {
    let relative = Self.relativePath(c, spec: spec)
    let display = root + "/" + relative
    let path = absoluteRoot + "/" + relative
    let pending = path + ".new"
    func fail(_ message: String) -> Finding {
      Finding(label: "golden", kind: "golden", passed: false, message: message, location: c.location)
    }
    let actual: String
    switch Self.subject(spec, completion) {
    case .failure(let e):
      return Comparison(report: GoldenReport(status: .changed, path: display), finding: fail(e.message))
    case .success(let text): actual = text
    }
    let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    // The stored golden is normalised again, so a hand-edited file compares fairly.
    let expected = existing.map { text in (try? Self.normalize(text, spec.normalizers).get()) ?? text }

    if update {
      var notes: [String] = []
      if expected != actual {
        do {
          try AtomicFile.write(actual, to: path)
          notes.append("wrote golden \(display)")
        } catch {
          return Comparison(
            report: GoldenReport(status: .changed, path: display), finding: nil,
            error: "the golden could not be written: \(error)")
        }
      }
      try? FileManager.default.removeItem(atPath: pending)
      return Comparison(
        report: GoldenReport(status: expected == actual ? .matched : .updated, path: display), finding: nil,
        notes: notes)
    }
    guard let expected else {
      return Comparison(
        report: GoldenReport(status: .missing, path: display),
        finding: fail(
          "no golden at \(display); "
            + (writePending(actual, to: pending, display: display + ".new")
              ?? "wrote \(display).new (review it, then run 'promptcheck accept')")))
    }
    if expected == actual {
      try? FileManager.default.removeItem(atPath: pending)
      return Comparison(report: GoldenReport(status: .matched, path: display), finding: nil)
    }
    let diff = UnifiedDiff.diff(old: expected, new: actual, oldName: display, newName: display + ".new")
    return Comparison(
      report: GoldenReport(status: .changed, path: display, diff: diff),
      finding: fail(
        "the \(spec.subject.rawValue) differs from \(display) "
          + "(\(writePending(actual, to: pending, display: display + ".new") ?? "wrote \(display).new")):\n"
          + diff.dropLast()))
  }

  /// Writes the pending golden; nil when written, else why it could not be.
  func writePending(_ text: String, to path: String, display: String) -> String? {
    do {
      try AtomicFile.write(text, to: path)
      return nil
    } catch {
      return "could not write \(display): \(error.reason)"
    }
  }
}
