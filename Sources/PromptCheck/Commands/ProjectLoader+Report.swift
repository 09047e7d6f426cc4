import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

extension ProjectLoader {
  /// Loads the project, or prints every problem (with source lines and carets) and a count, and returns nil.
  package static func loadOrReport(
    configPath: String?, paths: [String], _ ctx: CommandContext, targets: ([String]?, [String]?) = (nil, nil)
  ) -> Project? {
    let loaded = load(
      configPath: configPath, paths: paths, directory: ctx.directory, environment: ctx.environment, targets: targets)
    if var project = loaded.project {
      if !project.warnings.isEmpty { ctx.err(render(project.warnings, sources: loaded.sources) + "\n") }
      // The files' text was kept to show diagnostics; a run does not hold it.
      project.sources = [:]
      return project
    }
    reportProblems(loaded.diagnostics, sources: loaded.sources, ctx)
    return nil
  }

  /// The config alone, or nil after printing its problems.
  package static func loadConfigOrReport(configPath: String?, _ ctx: CommandContext) -> Config? {
    var sources: [String: String] = [:]
    let (config, problems) = loadConfig(
      configPath: configPath, directory: ctx.directory, environment: ctx.environment, sources: &sources)
    if problems.isEmpty { return config }
    reportProblems(problems, sources: sources, ctx)
    return nil
  }

  package static func reportProblems(_ diagnostics: [Diagnostic], sources: [String: String], _ ctx: CommandContext) {
    ctx.err(render(diagnostics, sources: sources) + "\n")
    let errors = diagnostics.count { $0.severity == .error }
    ctx.err("\(counted(errors, "error")) found; nothing was run.\n")
  }
}
