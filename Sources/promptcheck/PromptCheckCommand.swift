import ArgumentParser
import Foundation
import PromptCheck

@main
struct PromptCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "promptcheck",
    abstract: "Prompt-regression tests for OpenAI-compatible chat models.",
    discussion: """
      Suites are YAML files under prompts/. Answers are recorded as cassettes under
      expectations/cassettes/ and replayed offline, so CI needs no key and no network.

      Examples:
        promptcheck validate                     check every suite and the config
        promptcheck validate prompts/refunds.yaml
        promptcheck query '$.choices[0].message' response.json
        echo '{"a":[1,2]}' | promptcheck query '$.a[*]' --paths
      """,
    version: promptcheckVersion,
    subcommands: [RunCommand.self, ValidateCommand.self, QueryCommand.self]
  )

  /// Like the default entry point, except that an invalid invocation exits 2 (the
  /// contract's code for "nothing was run") instead of argument-parser's 64.
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      if exitCode(for: error) == .validationFailure {
        printError(fullMessage(for: error))
        Foundation.exit(2)
      }
      exit(withError: error)
    }
  }
}
