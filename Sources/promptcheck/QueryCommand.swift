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

struct QueryCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "query",
    abstract: "Evaluate an RFC 9535 JSONPath on a JSON document.",
    discussion: """
      Prints the selected nodes as one JSON array (with --paths, their normalized
      paths). Exits 0 also when nothing is selected, 2 when the expression or the
      document is invalid, or a match()/search() regex runs past its 1 s deadline.

      Examples:
        promptcheck query '$.choices[0].message.content' response.json
        promptcheck query '$..[?@.price < 10]' --paths - < catalog.json
      """
  )

  @Argument(help: "The JSONPath expression, e.g. '$.a[0]'.")
  var expression: String

  @Argument(help: "A JSON file (pipes and FIFOs too), or - for standard input (the default).")
  var file: String = "-"

  @Flag(help: "Print the normalized paths of the selected nodes instead of their values.")
  var paths = false

  func run(in ctx: CommandContext) async -> ExitStatus {
    QueryCommandCore.run(expression: expression, file: file, paths: paths, ctx)
  }
}
