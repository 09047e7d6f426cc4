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

struct SchemaCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "schema",
    abstract: "Print the JSON Schema of suite files or of promptcheck.yaml, for editors.",
    discussion: """
      The schemas are made from the loader's own tables, so an editor that uses them
      (the YAML language server in VS Code and others) completes and checks exactly
      what promptcheck accepts. `promptcheck init` writes both and points the files at
      them; refresh them after an upgrade with --write.

      Examples:
        promptcheck schema suite > promptcheck.schema/suite.json
        promptcheck schema --write promptcheck.schema
      """
  )

  enum Kind: String, ExpressibleByArgument, CaseIterable { case suite, config }

  @Argument(help: "suite or config.")
  var kind: Kind?

  @Option(help: ArgumentHelp("Write suite.json and config.json into this folder.", valueName: "DIR"))
  var write: String?

  func validate() throws {
    if kind == nil && write == nil { throw ValidationError("name the schema (suite or config), or give --write DIR") }
  }

  func run(in ctx: CommandContext) async -> ExitStatus {
    if let write { return SchemaCommandCore.write(to: write, ctx) }
    ctx.out(SchemaCommandCore.text(kind == .config ? EditorSchema.config : EditorSchema.suite))
    return .ok
  }
}
