import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `promptcheck validate`: load and check everything, run nothing.
package enum ValidateCommandCore {
  package static func run(configPath: String?, paths: [String], _ ctx: CommandContext) -> ExitStatus {
    guard let project = ProjectLoader.loadOrReport(configPath: configPath, paths: paths, ctx) else { return .invalid }
    ctx.out("ok: \(counted(project.suites.count, "suite")), \(project.testCount) tests, \(project.caseCount) cases\n")
    return .ok
  }
}
