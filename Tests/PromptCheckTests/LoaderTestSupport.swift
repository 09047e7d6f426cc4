@testable import PromptCheck

/// Loads a suite from text; diagnostics as `file:line:col: error: message` strings.
func loadSuite(
  _ yaml: String, config: Config = Config(), file: String = "prompts/s.yaml", name: String = "s",
  files: [String: String] = [:]
) -> (suite: Suite?, errors: [String]) {
  let (suite, diagnostics) = SuiteLoader.load(
    text: yaml, file: file, name: name, config: config, readFile: { files[$0] })
  return (suite, diagnostics.map(\.description))
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
