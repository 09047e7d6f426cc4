import Foundation
import PromptCheckCore

/// Label files (README "The local loop"): `expectations/labels/<suite>.yaml`, one per suite, each
/// a list of labels keyed by case and assertion; written atomically, inside the project.
package struct LabelStore: Sendable {
  /// The folder as the user names it (`expectations/labels`), for messages.
  package var root: String
  package var project: ProjectRoot

  package init(root: String, project: ProjectRoot) {
    self.root = root
    self.project = project
  }

  /// The file of a suite, as messages name it.
  package func file(of suite: String) -> String { root + "/" + suite + ".yaml" }

  var absoluteRoot: String { root.hasPrefix("/") ? root : project.path + "/" + root }

  /// A suite's labels (none when it has no file), or what is wrong with its file.
  package func load(suite: String) -> Result<[Label], Diagnostic> {
    let shown = file(of: suite)
    let path = absoluteRoot + "/" + suite + ".yaml"
    guard FileManager.default.fileExists(atPath: path) else { return .success([]) }
    guard let data = FileManager.default.contents(atPath: path) else {
      return .failure(Diagnostic("\(shown): cannot read the file", at: nil))
    }
    let json: JSON
    do {
      json = try YAMLParser.parseJSON(bytes: Array(data), file: shown)
    } catch {
      return .failure(error)
    }
    guard let list = json["labels"]?.arrayValue else {
      return .failure(Diagnostic("\(shown): needs a labels: list", at: nil))
    }
    var labels: [Label] = []
    for (i, item) in list.enumerated() {
      guard let id = item["case"]?.stringValue, let verdictText = item["label"]?.stringValue,
        let verdict = Label.Verdict(rawValue: verdictText), let answer = item["answer"]?.stringValue
      else {
        return .failure(
          Diagnostic("\(shown): labels[\(i)] needs case, label (pass or fail) and answer", at: nil))
      }
      var assertion: Int?
      if let a = item["assert"] {
        guard case .int(let n) = a, n >= 0 else {
          return .failure(Diagnostic("\(shown): labels[\(i)].assert must be an assertion's index (0 or more)", at: nil))
        }
        assertion = n
      }
      labels.append(
        Label(
          caseID: id, assertion: assertion, verdict: verdict, note: item["note"]?.stringValue,
          by: item["by"]?.stringValue, answer: answer, at: item["at"]?.stringValue ?? ""))
    }
    return .success(labels)
  }

  /// Every label file under the folder: the labels by suite, and the files that could not be read.
  package func loadAll() -> (labels: [String: [Label]], problems: [Diagnostic]) {
    var out: [String: [Label]] = [:]
    var problems: [Diagnostic] = []
    for f in FileSystem.files(under: absoluteRoot, where: { $0.hasSuffix(".yaml") }) {
      let suite = String(f.dropLast(".yaml".count))
      switch load(suite: suite) {
      case .success(let l): out[suite] = l
      case .failure(let d): problems.append(d)
      }
    }
    return (out, problems)
  }

  /// Adds or replaces (same case and assertion) a label in its suite's file; the file written.
  @discardableResult
  package func save(_ label: Label, suite: String) throws(LabelError) -> String {
    var labels: [Label]
    switch load(suite: suite) {
    case .success(let l): labels = l
    case .failure(let d): throw LabelError(message: d.message)
    }
    labels.removeAll { $0.key == label.key }
    labels.append(label)
    labels.sort { ($0.caseID, $0.assertion ?? -1) < ($1.caseID, $1.assertion ?? -1) }
    var list: [JSON] = []
    for l in labels {
      var o = JSONObject()
      o["case"] = .string(l.caseID)
      if let a = l.assertion { o["assert"] = .int(a) }
      o["label"] = .string(l.verdict.rawValue)
      if let n = l.note, !n.isEmpty { o["note"] = .string(n) }
      if let b = l.by, !b.isEmpty { o["by"] = .string(b) }
      o["answer"] = .string(l.answer)
      o["at"] = .string(l.at)
      list.append(.object(o))
    }
    var root = JSONObject()
    root["version"] = 1
    root["labels"] = .array(list)
    let shown = file(of: suite)
    let body: String
    do {
      body = try YAMLEmitter.emit(.object(root))
    } catch {
      throw LabelError(message: "\(shown): the labels could not be written as YAML: \(error.message)")
    }
    let text =
      "# promptcheck labels for suite \(suite): people's verdicts (promptcheck label, promptcheck view).\n" + body
    let target: ProjectPath
    do {
      target = try project.path(shown)
    } catch {
      throw LabelError(message: error.description)
    }
    do {
      try AtomicFile.write(text, to: target)
    } catch {
      throw LabelError(message: error.description)
    }
    return shown
  }
}

package struct LabelError: Error, Sendable, CustomStringConvertible {
  package var message: String
  package var description: String { message }
}
