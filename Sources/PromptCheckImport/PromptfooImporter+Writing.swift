import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: writing (README "Coming from promptfoo").
extension PromptfooImporter {

  mutating func write(prompts: [Prompt], defaults: JSONObject, transform: JSON?, tests: [JSON], description: YAMLNode?)
  {
    var config = JSONObject()
    config["tests_dir"] = "prompts"
    config["expectations_dir"] = "expectations"
    if !providers.isEmpty {
      config["providers"] = .object(JSONObject(providers.map { ($0.name, $0.value) }))
      if let first = providers.first(where: { !$0.name.hasPrefix("grader") }) {
        config["default_provider"] = .string(first.name)
      }
    }
    if let grader { config["grader"] = ["provider": .string(grader)] }
    if let jobs { config["jobs"] = .int(jobs) }
    if !targets.isEmpty { config["targets"] = .object(JSONObject(targets.map { ($0.name, $0.value) })) }
    let modelProviders = providers.filter { !$0.name.hasPrefix("grader") }.map(\.name)
    // Suites: the text prompts together (as versions), each chat prompt apart; per app target, again.
    var suites: [(name: String, suite: JSONObject)] = []
    let texts = prompts.compactMap { p -> (String, String, String?)? in
      if case .text(let l, let t, let f) = p { (l, t, f) } else { nil }
    }
    let chats = prompts.compactMap { p -> (String, JSON)? in if case .chat(let l, let m) = p { (l, m) } else { nil } }
    let answerers: [(String?, String?)] =
      (modelProviders.isEmpty ? [] : [(nil as String?, nil as String?)]) + targets.map { (nil, $0.name) }
    let base = Self.slug(description?.scalar?.text ?? "imported", taken: [])
    for (_, target) in answerers.isEmpty ? [(nil, nil)] : answerers {
      let suffix = target.map { "-\($0)" } ?? ""
      if !texts.isEmpty {
        var s = suiteHead(description: description, target: target, providers: modelProviders)
        var d = defaults
        let conversations = tests.contains { $0["turns"] != nil }
        if texts.count == 1, texts[0].2 == nil, !conversations {
          d["prompt"] = .string(texts[0].1)
        } else if texts.count == 1, texts[0].2 == nil {
          // A conversation's turns are its user messages: the prompt goes to the other tests only.
          promptForPlainTests = texts[0].1
        } else {
          var versions = JSONObject()
          var taken: [String] = []
          for (k, (label, text, file)) in texts.enumerated() {
            let name = Self.slug(label.isEmpty ? "prompt-\(k + 1)" : label, taken: taken)
            taken.append(name)
            versions[name] = file.map { .string($0) } ?? ["raw": .string(text)]
          }
          s["prompts"] = .object(versions)
        }
        s["defaults"] = .object(defaultsWithParams(d, transform: transform))
        s["tests"] = .array(finalTests(tests, chat: false))
        suites.append((base + suffix, s))
      }
      for (label, messages) in chats {
        var s = suiteHead(description: description, target: target, providers: modelProviders)
        var d = defaults
        d["messages"] = messages
        s["defaults"] = .object(defaultsWithParams(d, transform: transform))
        s["tests"] = .array(finalTests(tests, chat: true))
        suites.append((Self.slug(label, taken: suites.map(\.name)) + suffix, s))
      }
    }
    do {
      plan.files.append(
        (
          "promptcheck.yaml",
          "# Imported from \(file) by promptcheck import promptfoo.\n" + (try YAMLEmitter.emit(.object(config)))
        ))
      for (name, s) in suites {
        plan.files.append(
          (
            "prompts/\(name).yaml",
            "# Imported from \(file); see import-report.json.\n" + (try YAMLEmitter.emit(.object(s)))
          ))
      }
    } catch {
      self.error("the imported files could not be written as YAML: \(error)", nil)
    }
    plan.files += copied
    if shims.contains("python") { plan.files.append(("prompts/promptfoo_assert_shim.py", Shims.pythonAssert)) }
    if shims.contains("javascript") { plan.files.append(("prompts/promptfoo_assert_shim.js", Shims.javascriptAssert)) }
    if shims.contains("provider") { plan.files.append(("promptfoo_provider_shim.py", Shims.pythonProvider)) }
  }

  func suiteHead(description: YAMLNode?, target: String?, providers: [String]) -> JSONObject {
    var s = JSONObject()
    if let d = description?.scalar?.text { s["description"] = .string(d) }
    if let target {
      s["target"] = .string(target)
    } else if providers.count > 1 {
      s["providers"] = .array(providers.map(JSON.string))
    }
    return s
  }

  func defaultsWithParams(_ d: JSONObject, transform: JSON?) -> JSONObject {
    var d = d
    if let providerParams { d["params"] = .object(providerParams) }
    if let transform { d["transform"] = transform }
    return d
  }

  /// Each test with a unique name and its repeat; the importer's own markers removed.
  func finalTests(_ tests: [JSON], chat: Bool) -> [JSON] {
    var taken = Set<String>()
    return tests.enumerated().map { k, t in
      let o = t.objectValue ?? JSONObject()
      var name = o["name"]?.stringValue ?? "test \(k + 1)"
      if taken.contains(slugify(name)) || slugify(name).isEmpty { name += " \(k + 1)" }
      taken.insert(slugify(name))
      var out = JSONObject()
      out["name"] = .string(name)
      if o["turns"] == nil, let p = promptForPlainTests { out["prompt"] = .string(p) }
      for key in ["vars", "turns", "threshold", "transform", "assert"] where o[key] != nil { out[key] = o[key] }
      if let n = repeatCount { out["repeat"] = .int(n) }
      return .object(out)
    }
  }
}
