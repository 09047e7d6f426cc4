import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `promptcheck compare BASE [HEAD]`: what changed between two runs or two revisions, offline.
package enum CompareCommandCore {
  package struct Options: Sendable {
    package var base: String
    /// nil: the working tree.
    package var head: String?
    package var configPath: String?
    package var markdown: String?
    package var html: String?
    package var json: String?
    package var failOnRegression = false
    package var color = false
    package init(base: String) { self.base = base }
  }

  package static func run(_ o: Options, _ ctx: CommandContext) -> ExitStatus {
    guard let config = ProjectLoader.loadConfigOrReport(configPath: o.configPath, ctx) else { return .invalid }
    let sides = [o.base, o.head].map { AnswerSource.read($0, expectationsDir: config.expectationsDir, ctx) }
    var sets: [AnswerSet] = []
    for side in sides {
      switch side {
      case .failure(let e):
        ctx.report(Diagnostic("\(e.message)", at: nil))
        return .invalid
      case .success(let s): sets.append(s)
      }
    }
    let comparison = Comparison(base: sets[0], head: sets[1])
    ctx.out(ComparisonRendering.terminal(comparison, color: o.color))
    var status = ExitStatus.ok
    for (path, text) in [
      (o.markdown, { ComparisonRendering.markdown(comparison) }), (o.html, { ComparisonRendering.html(comparison) }),
      (o.json, { ComparisonRendering.json(comparison) }),
    ] {
      guard let path else { continue }
      do {
        try AtomicFile.write(text(), to: try ctx.writable(path))
      } catch {
        ctx.report(Diagnostic("\(error)", at: nil))
        status = .errored
      }
    }
    if let summary = ctx.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty,
      ctx.environment["GITHUB_ACTIONS"].map({ !$0.isEmpty }) ?? false
    {
      if let problem = GitHubOutput.append(ComparisonRendering.markdown(comparison), to: summary) {
        ctx.err("warning: cannot append the comparison to $GITHUB_STEP_SUMMARY (\(summary)): \(problem)\n")
      }
    }
    if o.failOnRegression && comparison.failsTheGate {
      let why =
        comparison.count(.regression) > 0
        ? counted(comparison.count(.regression), "regression")
        : "\(counted(comparison.goldenChanges.count, "case")) with a golden changed its answer"
      ctx.err("--fail-on-regression: \(why)\n")
      return .failed
    }
    return status
  }
}
