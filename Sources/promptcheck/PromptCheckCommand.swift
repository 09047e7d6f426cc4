import ArgumentParser
import Foundation
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

@main
struct PromptCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "promptcheck",
    abstract: "Prompt-regression tests for OpenAI-compatible chat models.",
    discussion: """
      Suites are YAML files under prompts/. Answers are recorded as cassettes under
      expectations/cassettes/ and replayed offline, so CI needs no key and no network.

      Examples:
        promptcheck run                          replay the suites (record what is missing, outside CI)
        promptcheck run --mode record            call the API and record every cassette
        promptcheck validate                     check every suite and the config
        promptcheck accept                       accept the pending goldens
        promptcheck query '$.choices[0].message' response.json
        promptcheck merge shard-*.json --junit junit.xml
        promptcheck compare origin/main                 what changed since main, offline
      """,
    version: promptcheckVersionLine(),
    subcommands: [
      RunCommand.self, ValidateCommand.self, CompareCommand.self, ServeCommand.self, AcceptCommand.self,
      SchemaCommand.self,
      ReviewCommand.self,
      QueryCommand.self,
      MergeCommand.self,
      InitCommand.self,
      ImportCommand.self,
      LabelCommand.self,
      CalibrateCommand.self,
      ViewCommand.self,
      WatchCommand.self,
    ]
  )

  /// Like the default entry point, except that an invalid invocation exits 2 (the
  /// contract's code for "nothing was run") instead of argument-parser's 64.
  /// "did you mean" for a mistyped command: nil when the first argument is an option or a command.
  static func unknownCommand(_ arguments: [String]) -> String? {
    guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
    let names = configuration.subcommands.compactMap { $0.configuration.commandName }
    guard !names.contains(first) else { return nil }
    var message = "error: unknown command '\(first)'"
    if let guess = closestMatch(to: first, in: names) { message += "; did you mean '\(guess)'?" }
    return message + " (the commands are " + names.joined(separator: ", ") + ")"
  }

  static func main() async {
    if let message = unknownCommand(Array(CommandLine.arguments.dropFirst())) {
      printError(message)
      Foundation.exit(2)
    }
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

func printError(_ s: String) {
  FileHandle.standardError.write(Data((s + "\n").utf8))
}
