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

/// Loads a suite from text; errors as `file:line:col: error: message` strings (warnings apart).
func loadSuite(
  _ yaml: String, config: Config = Config(), file: String = "prompts/s.yaml", name: String = "s",
  files: [String: String] = [:]
) -> (suite: Suite?, errors: [String]) {
  let (suite, diagnostics) = SuiteLoader.load(
    text: yaml, file: file, name: name, config: config, readFile: { files[$0] })
  return (suite, diagnostics.filter { $0.severity == .error }.map(\.description))
}

/// The warnings of a suite that loads.
func loadWarnings(_ yaml: String, config: Config = Config()) -> [String] {
  SuiteLoader.load(text: yaml, file: "prompts/s.yaml", name: "s", config: config).1
    .filter { $0.severity == .warning }.map(\.description)
}

/// The single test of a suite that must load.
func loadTest(_ yaml: String, config: Config = Config(), files: [String: String] = [:]) throws -> TestDefinition {
  let (suite, errors) = loadSuite(yaml, config: config, files: files)
  guard let suite, errors.isEmpty, let test = suite.tests.first else {
    throw LoadFailure(errors: errors)
  }
  return test
}

struct LoadFailure: Error, CustomStringConvertible {
  var errors: [String]
  var description: String { errors.joined(separator: "\n") }
}
