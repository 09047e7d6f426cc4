import ArgumentParser
import PromptCheck
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

struct ValidateCommand: ContextCommand {
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

  func run(in ctx: CommandContext) async -> ExitStatus {
    ValidateCommandCore.run(configPath: config, paths: paths, ctx)
  }
}
