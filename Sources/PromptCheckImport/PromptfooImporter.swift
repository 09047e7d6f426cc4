import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `promptcheck import promptfoo` (README "Coming from promptfoo"): a `promptfooconfig.yaml`
/// and the files it names, mapped onto a promptcheck project. Pure but for reading files.
package struct PromptfooImporter {
  /// The config's path as given (messages and the report use it) and its folder.
  let file: String
  let folder: String
  let read: (String) -> String?
  /// Files of a folder (for globs).
  let list: (String) -> [String]

  var plan: ImportPlan
  var providers: [(name: String, value: JSON)] = []
  var targets: [(name: String, value: JSON)] = []
  var providerParams: JSONObject?
  var grader: String?
  var jobs: Int?
  var repeatCount: Int?
  var copied: [(path: String, text: String)] = []
  var promptForPlainTests: String?
  var shims: Set<String> = []

  package init(file: String, read: @escaping (String) -> String?, list: @escaping (String) -> [String]) {
    self.file = file
    folder = (file as NSString).deletingLastPathComponent
    self.read = read
    self.list = list
    plan = ImportPlan(report: ImportReport(source: file))
  }

  static let dropped = ["redteam", "sharing", "extensions", "nunjucksFilters", "derivedMetrics", "outputPath"]
  static let ignored = [
    "description", "env", "tags", "metadata", "writeLatestResults", "commandLineOptions", "$schema",
  ]

  mutating func mapped(_ construct: String, _ node: YAMLNode, _ note: String = "") {
    plan.report.add(.mapped, construct, at: node.location, note)
  }
  mutating func approximated(_ construct: String, _ node: YAMLNode, _ note: String) {
    plan.report.add(.approximated, construct, at: node.location, note)
  }
  mutating func dropped(_ construct: String, _ node: YAMLNode, _ note: String) {
    plan.report.add(.dropped, construct, at: node.location, note)
  }
  mutating func error(_ message: String, _ node: YAMLNode?) {
    plan.errors.append(Diagnostic(message, at: node?.location ?? SourceLocation(file: file, line: 1, column: 1)))
  }

  // MARK: The whole config

  package static func importConfig(
    _ text: String, file: String, read: @escaping (String) -> String?, list: @escaping (String) -> [String]
  ) -> ImportPlan {
    var importer = PromptfooImporter(file: file, read: read, list: list)
    let lower = file.lowercased()
    if [".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"].contains(where: lower.hasSuffix) {
      importer.error(
        "a JavaScript or TypeScript config cannot be imported (it is a program, not data): write it out as promptfooconfig.yaml first, e.g. with `promptfoo eval --write-config`",
        nil)
      return importer.plan
    }
    let root: YAMLNode
    do {
      root = try YAMLParser.parse(text, file: file)
    } catch {
      importer.plan.errors.append(error)
      return importer.plan
    }
    importer.run(root)
    return importer.plan
  }

  mutating func run(_ root: YAMLNode) {
    guard let pairs = root.mapping else {
      error("a promptfoo config must be a map, found \(root.kindDescription)", root)
      return
    }
    var m: [String: YAMLNode] = [:]
    for p in pairs { m[p.key.scalar?.text ?? ""] = p.value }
    for p in pairs {
      let key = p.key.scalar?.text ?? ""
      if Self.dropped.contains(key) {
        dropped(key, p.key, "promptcheck has no \(key); left out")
      } else if !Self.ignored.contains(key)
        && ![
          "prompts", "providers", "targets", "defaultTest", "tests", "scenarios", "evaluateOptions",
          "assertionTemplates",
        ].contains(key)
      {
        dropped(key, p.key, "not a promptfoo key promptcheck knows")
      }
    }
    let templates = m["assertionTemplates"]?.mapping ?? []
    // Providers first: the tests' params and the grader name them.
    if let p = m["providers"] ?? m["targets"] { readProviders(p) }
    if let e = m["evaluateOptions"] { readEvaluateOptions(e) }
    var prompts: [Prompt] = []
    if let p = m["prompts"] { prompts = readPrompts(p) }
    if prompts.isEmpty, plan.errors.isEmpty { error("the config has no prompts", root) }
    var defaults = JSONObject()
    var defaultTransform: JSON?
    if let d = m["defaultTest"] {
      (defaults, defaultTransform) = readDefaultTest(d, templates: templates)
    }
    var tests: [JSON] = []
    if let t = m["tests"] { tests += readTests(t, templates: templates) }
    if let s = m["scenarios"] { tests += readScenarios(s, templates: templates) }
    tests = groupConversations(tests, prompts: prompts)
    guard plan.errors.isEmpty else { return }
    write(
      prompts: prompts, defaults: defaults, transform: defaultTransform, tests: tests, description: m["description"])
  }

}
