import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `promptcheck schema`: the editor schemas, printed or written.
package enum SchemaCommandCore {
  package static func text(_ schema: JSON) -> String { schema.prettyPrinted(keys: .asWritten) + "\n" }

  /// Writes `DIR/suite.json` and `DIR/config.json`.
  package static func write(to folder: String, _ ctx: CommandContext) -> ExitStatus {
    for (name, schema) in [("suite.json", EditorSchema.suite), ("config.json", EditorSchema.config)] {
      let path = folder + "/" + name
      do {
        try AtomicFile.write(text(schema), to: try ctx.writable(path))
        ctx.out("wrote \(path)\n")
      } catch {
        ctx.report(Diagnostic("\(error)", at: nil))
        return .errored
      }
    }
    return .ok
  }
}
