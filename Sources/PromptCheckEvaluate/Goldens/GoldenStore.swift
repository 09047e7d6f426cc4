import Foundation
import PromptCheckCore

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
  /// Goldens are read and written only inside the project.
  package var project: ProjectRoot

  /// `root` relative to the project folder (or absolute inside it).
  package init(root: String, project: ProjectRoot, update: Bool) {
    self.root = root
    self.project = project
    absoluteRoot = root.hasPrefix("/") ? root : project.path + "/" + root
    self.update = update
  }

  /// The largest golden read (as large as the largest cassette).
  package static let maxBytes = 16 * 1024 * 1024

  package static let volatileResponseFields = ["id", "created", "system_fingerprint"]

  /// The golden file's path, relative to the golden root, for a case and subject.
  /// `suffix` names a conversation turn's golden (`.turn-2`).
  package static func relativePath(_ c: PlannedCase, spec: GoldenSpec, suffix: String = "") -> String {
    "\(c.suite)/\(c.goldenStem)\(suffix).\(isJSON(spec) ? "json" : "txt")"
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
    /// Deferred writes: the text to write as the pending file (or, updating, the golden).
    package var text: String?
  }

  /// Compares a case's subject with its golden. With `deferWrites` (the repetitions of a
  /// repeated test, which share one golden) nothing is written here: `Comparison.text` is
  /// kept, and `settleRepeats` writes at most one file per test once every repetition is in.
  package func compare(
    _ c: PlannedCase, spec: GoldenSpec, completion: Completion, deferWrites: Bool = false, turn: Int? = nil
  ) -> Comparison {
    let relative = Self.relativePath(c, spec: spec, suffix: turn.map { ".turn-\($0)" } ?? "")
    let display = root + "/" + relative
    let path = absoluteRoot + "/" + relative
    let pending = path + ".new"
    func fail(_ message: String) -> Finding {
      var f = Finding(
        label: turn.map { "turn \($0)" } ?? "golden", kind: "golden", passed: false, message: message,
        location: c.location)
      f.turn = turn
      return f
    }
    let actual: String
    switch Self.subject(spec, completion) {
    case .failure(let e):
      return Comparison(report: GoldenReport(status: .changed, path: display), finding: fail(e.message))
    case .success(let text): actual = text.withFinalNewline
    }
    let existing: String?
    switch FileSystem.readRegular(path, limit: Self.maxBytes, within: project) {
    case .success(let bytes): existing = String(decoding: bytes, as: UTF8.self)
    case .failure(.absent): existing = nil
    case .failure(.refused(let why)):
      return Comparison(
        report: GoldenReport(status: .changed, path: display), finding: nil,
        error: "the golden \(display) cannot be read: \(why)")
    }
    // The stored golden is normalised again, so a hand-edited file compares fairly.
    let expected = existing.map { text in
      ((try? Self.normalize(text, spec.normalizers).get()) ?? text).withFinalNewline
    }

    if update {
      if deferWrites {
        return Comparison(
          report: GoldenReport(status: expected == actual ? .matched : .updated, path: display), finding: nil,
          text: expected == actual ? nil : actual)
      }
      var notes: [String] = []
      if expected != actual {
        do {
          try AtomicFile.write(actual, to: try project.path(path))
          notes.append("wrote golden \(display)")
        } catch {
          return Comparison(
            report: GoldenReport(status: .changed, path: display), finding: nil,
            error: "the golden could not be written: \(error)")
        }
      }
      remove(pending)
      return Comparison(
        report: GoldenReport(status: expected == actual ? .matched : .updated, path: display), finding: nil,
        notes: notes)
    }
    guard let expected else {
      if deferWrites {
        return Comparison(
          report: GoldenReport(status: .missing, path: display), finding: fail("no golden at \(display)"), text: actual)
      }
      return Comparison(
        report: GoldenReport(status: .missing, path: display),
        finding: fail(
          "no golden at \(display); "
            + (writePending(actual, to: pending, display: display + ".new")
              ?? "wrote \(display).new (review it, then run 'promptcheck accept')")), text: actual)
    }
    if expected == actual {
      if !deferWrites { remove(pending) }
      return Comparison(report: GoldenReport(status: .matched, path: display), finding: nil)
    }
    let diff = UnifiedDiff.diff(old: expected, new: actual, oldName: display, newName: display + ".new")
    let written =
      deferWrites ? nil : (writePending(actual, to: pending, display: display + ".new") ?? "wrote \(display).new")
    return Comparison(
      report: GoldenReport(status: .changed, path: display, diff: diff),
      finding: fail(
        "the \(spec.subject.rawValue) differs from \(display)" + (written.map { " (\($0))" } ?? "") + ":\n"
          + diff.dropLast()),
      text: actual)
  }

  /// After a run: for each repeated test with a golden, the one write its repetitions
  /// deferred. With `--update-goldens`, the first repetition that differs writes the golden.
  /// Otherwise, when the test failed (a repetition failed and was not tolerated), the first
  /// failing repetition writes the one pending `.new`; when every repetition matched, a stale
  /// pending file is removed; a tolerated failure writes nothing.
  package func settleRepeats(_ results: inout [CaseResult]) {
    var order: [String] = []
    var members: [String: [Int]] = [:]
    for (i, r) in results.enumerated() where r.plannedCase.repeatIndex != nil && r.plannedCase.golden != nil {
      let g = r.plannedCase.groupID
      if members[g] == nil { order.append(g) }
      members[g, default: []].append(i)
    }
    for g in order {
      guard let indices = members[g], let first = indices.first, let spec = results[first].plannedCase.golden else {
        continue
      }
      let relative = Self.relativePath(results[first].plannedCase, spec: spec)
      let display = root + "/" + relative
      let path = absoluteRoot + "/" + relative
      if update {
        guard let i = indices.first(where: { results[$0].goldenText != nil }), let text = results[i].goldenText else {
          remove(path + ".new")
          continue
        }
        do {
          try AtomicFile.write(text, to: try project.path(path))
          remove(path + ".new")
          results[i].notes.append("wrote golden \(display)")
        } catch {
          results[i].outcome = .errored("the golden could not be written: \(error)")
        }
        continue
      }
      if indices.allSatisfy({ results[$0].golden.status == .matched }) {
        remove(path + ".new")
        continue
      }
      guard
        let i = indices.first(where: {
          results[$0].status == .failed && !results[$0].tolerated && results[$0].goldenText != nil
        }), let text = results[i].goldenText
      else { continue }
      let which = results[i].plannedCase.repeatIndex.map { " from #\($0)" } ?? ""
      results[i].notes.append(
        writePending(text, to: path + ".new", display: display + ".new")
          ?? "wrote \(display).new\(which) (review it, then run 'promptcheck accept')")
    }
  }

  /// Writes the pending golden; nil when written, else why it could not be.
  func writePending(_ text: String, to path: String, display: String) -> String? {
    do {
      try AtomicFile.write(text, to: try project.path(path))
      return nil
    } catch let error as AtomicFile.WriteError {
      return "could not write \(display): \(error.reason)"
    } catch {
      return "could not write \(display): \(error)"
    }
  }

  /// Removes a stale pending file (only inside the project).
  func remove(_ path: String) {
    (try? project.path(path))?.remove()
  }
}
