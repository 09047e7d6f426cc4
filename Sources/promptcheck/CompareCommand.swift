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

struct CompareCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Show what changed between two runs or two revisions, offline.",
    discussion: """
      Each side is a JSON report (from run or merge) or a git revision, whose committed
      cassettes and goldens are read through git (no checkout, no network). HEAD defaults
      to the working tree. Cases are paired by id: added, removed, answer changed,
      unchanged; with reports on both sides, status flips (regressions, fixes) and the
      change in tokens, cost and latency.
      Exit status: 0, or 1 with --fail-on-regression when a case regressed (reports) or
      an answer changed in a case with a golden (revisions); 2 for bad arguments.

      Examples:
        promptcheck compare origin/main                       the working tree against main
        promptcheck compare main-report.json .promptcheck/report.json --fail-on-regression
        promptcheck compare origin/main --markdown comment.md --html compare.html
      """
  )

  @Argument(help: "The old side: a JSON report or a git revision.")
  var base: String

  @Argument(help: "The new side: a JSON report or a git revision (default: the working tree).")
  var head: String?

  @Option(help: "Config file (default: promptcheck.yaml if present), for the expectations folder.")
  var config: String?

  @Option(help: "Write a pull-request comment body (Markdown, under GitHub's 65,536 characters).")
  var markdown: String?

  @Option(help: "Write an HTML page with the changed answers side by side.")
  var html: String?

  @Option(help: "Write the comparison as JSON.")
  var json: String?

  @Flag(help: "Exit 1 when a case regressed, or (revisions) an answer changed in a case with a golden.")
  var failOnRegression = false

  @Flag(help: "No colour.")
  var noColor = false

  func run(in ctx: CommandContext) async -> ExitStatus {
    var o = CompareCommandCore.Options(base: base)
    o.head = head
    o.configPath = config
    o.markdown = markdown
    o.html = html
    o.json = json
    o.failOnRegression = failOnRegression
    o.color = ctx.isSmartTerminal && !noColor && (ctx.environment["NO_COLOR"] ?? "").isEmpty
    return CompareCommandCore.run(o, ctx)
  }
}
