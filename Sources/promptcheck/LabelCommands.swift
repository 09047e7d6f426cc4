import ArgumentParser
import Foundation
import PromptCheck
import PromptCheckCore

extension Label.Verdict: ExpressibleByArgument {}

struct LabelCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "label",
    abstract: "Record your verdict on a case, or on one of its judged assertions.",
    discussion: """
      The label goes to expectations/labels/SUITE.yaml with your name (git config
      user.name) and the digest of the answer you judged, read from the last JSON
      report: when the answer changes, the label is stale and no longer counted.
      promptcheck calibrate then measures how well the recorded judges agree.

      Examples:
        promptcheck label judged/capital-by-rubric pass
        promptcheck label judged/capital-by-rubric fail --assert 1 --note "names Lyon"
      """
  )

  @Argument(help: "The case's id, as run prints it.")
  var caseID: String

  @Argument(help: "pass or fail.")
  var verdict: Label.Verdict

  @Option(name: .customLong("assert"), help: "Label this judged assertion (its index, as assert[N] says).")
  var assertion: Int?

  @Option(help: "A note kept with the label.")
  var note: String?

  @Option(help: "The JSON report whose answer is labelled.")
  var report = ".promptcheck/report.json"

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  func run(in ctx: CommandContext) async -> ExitStatus {
    var o = LabelCommandsCore.LabelOptions()
    o.caseID = caseID
    o.verdict = verdict
    o.assertion = assertion
    o.note = note
    o.report = report
    o.configPath = config
    return LabelCommandsCore.label(o, ctx)
  }
}

struct CalibrateCommand: ContextCommand {
  static let configuration = CommandConfiguration(
    commandName: "calibrate",
    abstract: "How well the recorded judges agree with your labels: agreement, Cohen's kappa, confusion.",
    discussion: """
      Reads the verdicts of the last JSON report (a replay makes them from the
      cassettes, with no model call) and the labels under expectations/labels/.
      Exits 1 when a judged assertion's min_kappa (or the config's calibration:)
      is not reached.

      Examples:
        promptcheck run && promptcheck calibrate
        promptcheck calibrate judged/ --json calibration.json --markdown calibration.md
      """
  )

  @Argument(help: "Only cases whose id contains FILTER.")
  var filters: [String] = []

  @Option(help: "The JSON report whose verdicts are measured.")
  var report = ".promptcheck/report.json"

  @Option(help: "Write the figures as JSON.")
  var json: String?

  @Option(help: "Write the figures as a Markdown table.")
  var markdown: String?

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  func run(in ctx: CommandContext) async -> ExitStatus {
    var o = LabelCommandsCore.CalibrateOptions()
    o.filters = filters
    o.report = report
    o.json = json
    o.markdown = markdown
    o.configPath = config
    return LabelCommandsCore.calibrate(o, ctx)
  }
}
