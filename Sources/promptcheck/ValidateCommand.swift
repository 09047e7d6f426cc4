import ArgumentParser
import PromptCheck

struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Load and check suites and the config; run nothing.",
    discussion: """
      Prints every problem in every file as path:line:column: error: message,
      with the source line and a caret. Exit status: 0 when everything is valid,
      2 when anything is not.

      Examples:
        promptcheck validate
        promptcheck validate prompts/support --config ci/promptcheck.yaml
      """
  )

  @Argument(help: "Suite files or folders (default: the tests dir, prompts/).")
  var paths: [String] = []

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  func run() throws {
    let loaded = ProjectLoader.load(configPath: config, paths: paths)
    guard let project = loaded.project else {
      printError(ProjectLoader.render(loaded.diagnostics, sources: loaded.sources))
      let n = loaded.diagnostics.count
      printError("\(n) error\(n == 1 ? "" : "s") found; nothing was run.")
      throw ExitCode(2)
    }
    let s = project.suites.count
    print("ok: \(s) suite\(s == 1 ? "" : "s"), \(project.testCount) tests, \(project.caseCount) cases")
  }
}
