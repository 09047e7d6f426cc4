import Foundation
import PromptCheckCore

/// `promptcheck import openai-evals SPEC` (README "Coming from promptfoo"): an eval of the
/// open-source OpenAI Evals registry — a YAML spec naming a class and its `samples_jsonl`, each
/// sample `{input: [messages], ideal}` — as one suite, a test per sample.
package enum OpenAIEvalsImporter {
  static let rubrics = [
    "fact": "The output is factually consistent with the ideal answer: ",
    "closedqa": "The output answers the question correctly, as this ideal answer does: ",
    "battle": "The output is at least as good as this answer: ",
  ]

  package static func importSpec(_ text: String, file: String, read: (String) -> String?) -> ImportPlan {
    var plan = ImportPlan(report: ImportReport(source: file))
    func fail(_ m: String, _ n: YAMLNode?) {
      plan.errors.append(Diagnostic(m, at: n?.location ?? SourceLocation(file: file, line: 1, column: 1)))
    }
    let root: YAMLNode
    do {
      root = try YAMLParser.parse(text, file: file)
    } catch {
      plan.errors.append(error)
      return plan
    }
    // The entry that names a class (the versioned one), and its alias's description.
    var specNode: YAMLNode?
    var name = "eval"
    var description: String?
    for p in root.mapping ?? [] {
      let fields = p.value.mapping ?? []
      if fields.contains(where: { $0.key.scalar?.text == "class" }) {
        specNode = p.value
        name = String((p.key.scalar?.text ?? "eval").split(separator: ".").first ?? "eval")
      }
      if let d = fields.first(where: { $0.key.scalar?.text == "description" })?.value.scalar?.text { description = d }
    }
    guard let spec = specNode else {
      fail("no entry of \(file) names a class (an OpenAI Evals spec has `NAME.dev.v0: {class, args}`)", root)
      return plan
    }
    let fields = Dictionary((spec.mapping ?? []).map { ($0.key.scalar?.text ?? "", $0.value) }) { a, _ in a }
    let cls = fields["class"]?.scalar?.text ?? ""
    let args = Dictionary((fields["args"]?.mapping ?? []).map { ($0.key.scalar?.text ?? "", $0.value) }) { a, _ in a }
    guard let samplesNode = args["samples_jsonl"], let samplesPath = samplesNode.scalar?.text else {
      fail("the spec has no args.samples_jsonl", spec)
      return plan
    }
    let folder = (file as NSString).deletingLastPathComponent
    let candidates = [samplesPath, "../data/" + samplesPath, "data/" + samplesPath]
    guard let samples = candidates.compactMap({ read($0) }).first else {
      fail(
        "cannot read the samples \(samplesPath) (looked beside the spec and in ../data/ under \(folder.isEmpty ? "." : folder))",
        samplesNode)
      return plan
    }
    // The check each sample's ideal makes.
    let kind: String
    let classNode = fields["class"] ?? spec
    switch cls {
    case _ where cls.hasSuffix("basic.match:Match"):
      kind = "starts-with"
      plan.report.add(.mapped, "class \(cls)", at: classNode.location, "starts-with the ideal (any of them)")
    case _ where cls.hasSuffix("basic.includes:Includes"):
      kind = "contains"
      plan.report.add(.mapped, "class \(cls)", at: classNode.location, "contains the ideal (any of them)")
    case _ where cls.hasSuffix("basic.fuzzy_match:FuzzyMatch"):
      kind = "icontains"
      plan.report.add(
        .approximated, "class \(cls)", at: classNode.location,
        "icontains the ideal: fuzzy_match also passes when the output is contained in the ideal, and strips punctuation"
      )
    case _ where cls.contains("modelgraded"):
      kind = "llm-rubric"
      let specName = args["modelgraded_spec"]?.scalar?.text ?? "fact"
      plan.report.add(
        .approximated, "class \(cls) (\(specName))", at: classNode.location,
        "llm-rubric with the grading written out: \(rubrics[specName] ?? "The output matches the ideal answer: ")")
    default:
      plan.errors.append(
        Diagnostic(
          "the class \(cls) has no promptcheck mapping (Match, Includes, FuzzyMatch and the model-graded classes do)",
          at: classNode.location))
      return plan
    }
    var tests: [JSON] = []
    for (i, line) in samples.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      guard let sample = try? JSON.parse(trimmed), let input = sample["input"] else {
        fail("\(samplesPath):\(i + 1): a sample must be a JSON object with input", samplesNode)
        continue
      }
      var messages: [JSON] = []
      if let s = input.stringValue {
        messages = [["role": "user", "content": .string(s)]]
      } else {
        messages = (input.arrayValue ?? []).map { m in
          ["role": m["role"] ?? "user", "content": .string(m["content"]?.stringValue ?? "")]
        }
      }
      let ideals =
        sample["ideal"]?.stringValue.map { [$0] } ?? sample["ideal"]?.arrayValue?.compactMap(\.stringValue) ?? []
      var t = JSONObject()
      t["name"] = .string("sample \(tests.count + 1)")
      t["messages"] = .array(messages)
      var asserts: [JSON] = []
      switch kind {
      case "llm-rubric":
        let specName = args["modelgraded_spec"]?.scalar?.text ?? "fact"
        let text = (rubrics[specName] ?? "The output matches the ideal answer: ") + ideals.joined(separator: " / ")
        asserts = [["llm-rubric": .string(text)]]
      default:
        if ideals.count == 1 {
          asserts = [[kind: .string(ideals[0])]]
        } else {
          asserts = [["any-of": .array(ideals.map { [kind: .string($0)] })]]
        }
      }
      t["assert"] = .array(asserts)
      tests.append(.object(t))
      plan.report.add(
        .mapped, "sample", at: SourceLocation(file: samplesPath, line: i + 1, column: 1), "a test with its messages")
    }
    var suite = JSONObject()
    if let description { suite["description"] = .string(description) }
    suite["tests"] = .array(tests)
    var config = JSONObject()
    config["tests_dir"] = "prompts"
    config["expectations_dir"] = "expectations"
    config["providers"] = [
      "openai": ["base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY", "model": "gpt-4o-mini"]
    ]
    config["default_provider"] = "openai"
    if let n = args["completion_fns"] ?? fields["completion_fns"] {
      plan.report.add(
        .dropped, "completion_fns", at: n.location, "promptcheck's providers answer; edit promptcheck.yaml")
    }
    do {
      plan.files.append(
        (
          "promptcheck.yaml",
          "# Imported from \(file) by promptcheck import openai-evals.\n" + (try YAMLEmitter.emit(.object(config)))
        ))
      plan.files.append(
        (
          "prompts/\(slugify(name)).yaml",
          "# Imported from \(file); see import-report.json.\n" + (try YAMLEmitter.emit(.object(suite)))
        ))
    } catch {
      fail("the imported files could not be written as YAML: \(error)", nil)
    }
    return plan
  }
}
