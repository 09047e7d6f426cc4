import ArgumentParser
import PromptCheck
import PromptCheckCore

struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Make a promptcheck project from a promptfoo config or an OpenAI Evals spec.",
    discussion: """
      Writes promptcheck.yaml, suites under prompts/ and the files they need, and
      import-report.json; prints what was mapped, approximated or dropped, each at
      file:line:col. Never overwrites without --force. Exit status: 0 everything
      mapped exactly, 1 something was approximated or dropped, 2 nothing written.

      Examples:
        promptcheck import promptfoo
        promptcheck import promptfoo evals/promptfooconfig.yaml --out imported
        promptcheck import openai-evals registry/evals/capitals.yaml
      """,
    subcommands: [ImportPromptfooCommand.self, ImportOpenAIEvalsCommand.self]
  )
}

struct ImportOptions: ParsableArguments {
  @Option(help: "The folder to write the project in (inside the current folder).")
  var out = "."

  @Flag(help: "Replace files that exist.")
  var force = false
}

struct ImportPromptfooCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "promptfoo", abstract: "Import a promptfooconfig.yaml (.yml, .json) and the files it names.")

  @Argument(help: "The config (default: promptfooconfig.yaml, .yml or .json here).")
  var config: String?

  @OptionGroup var options: ImportOptions

  func run(in ctx: CommandContext) async -> ExitStatus {
    var o = ImportCommandCore.Options()
    o.path = config
    o.out = options.out
    o.force = options.force
    return ImportCommandCore.run(o, ctx)
  }
}

struct ImportOpenAIEvalsCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "openai-evals", abstract: "Import an OpenAI Evals registry spec and its samples.")

  @Argument(help: "The eval's YAML spec.")
  var spec: String

  @OptionGroup var options: ImportOptions

  func run(in ctx: CommandContext) async -> ExitStatus {
    var o = ImportCommandCore.Options()
    o.source = .openAIEvals
    o.path = spec
    o.out = options.out
    o.force = options.force
    return ImportCommandCore.run(o, ctx)
  }
}
