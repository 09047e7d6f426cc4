import Foundation
import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

@Suite struct EditorSchemaTests {
  @Test func everyKeyTheLoaderTakesHasAShape() {
    #expect(EditorSchema.unshapedKeys == [])
  }

  /// The YAML file as JSON, through promptcheck's own YAML reading.
  static func json(_ path: URL) throws -> String {
    let node = try YAMLParser.parse(String(contentsOf: path, encoding: .utf8), file: path.path)
    var r = NodeReader()
    return r.json(node).serialized()
  }

  static func validate(_ schema: JSON, _ documents: [String]) throws -> [Bool] {
    let dir = try TemporaryDirectory()
    try dir.write("schema.json", schema.serialized())
    var names: [String] = []
    for (i, d) in documents.enumerated() {
      try dir.write("doc\(i).json", d)
      names.append(dir.url.appendingPathComponent("doc\(i).json").path)
    }
    let script = """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1]))
      jsonschema.Draft202012Validator.check_schema(schema)
      v = jsonschema.Draft202012Validator(schema)
      for f in sys.argv[2:]:
          print("ok" if v.is_valid(json.load(open(f))) else "bad")
      """
    let r = try Shell.run("python3", ["-c", script, dir.url.appendingPathComponent("schema.json").path] + names)
    return r.output.split(separator: "\n").map { $0 == "ok" }
  }

  @Test(.enabled(if: jsonschemaAvailable, "python3 with jsonschema is not installed"))
  func theSchemasAcceptEverySuiteAndConfigHereAndRejectTypos() throws {
    let root = TestPaths.packageRoot
    var suites: [URL] = []
    for folder in ["prompts", "Tests/examples/suites", "Tests/examples/openrouter/prompts"] {
      let dir = root.appendingPathComponent(folder)
      let e = FileManager.default.enumerator(atPath: dir.path)
      while let f = e?.nextObject() as? String {
        if f.hasSuffix(".yaml") { suites.append(dir.appendingPathComponent(f)) }
      }
    }
    #expect(suites.count >= 8)
    let suiteResults = try Self.validate(EditorSchema.suite, suites.map(Self.json))
    #expect(
      suiteResults == Array(repeating: true, count: suites.count),
      "\(zip(suites.map(\.lastPathComponent), suiteResults).filter { !$1 })")
    let configs = ["promptcheck.yaml", "Tests/examples/promptcheck.yaml", "Tests/examples/openrouter/promptcheck.yaml"]
      .map { root.appendingPathComponent($0) }
    #expect(try Self.validate(EditorSchema.config, configs.map(Self.json)) == [true, true, true])
    // The typos the loader rejects, the schema rejects too.
    let badSuites = [
      #"{"tests": [{"name": "a", "asert": []}]}"#,
      #"{"tests": [{"name": "a", "assert": [{"contians": "x"}]}]}"#,
      #"{"test": [{"name": "a"}]}"#,
      #"{"tests": [{"name": "a", "repeat": 0}]}"#,
      #"{"defaults": {"name": "x"}, "tests": [{"name": "a"}]}"#,
    ]
    #expect(try Self.validate(EditorSchema.suite, badSuites) == [false, false, false, false, false])
    let badConfigs = [
      #"{"jobz": 3}"#, #"{"providers": {"p": {"base_ulr": "https://x"}}}"#, #"{"mode": "replay-all"}"#,
      #"{"jobs": 0}"#,
    ]
    #expect(try Self.validate(EditorSchema.config, badConfigs) == [false, false, false, false])
  }
}
