import ArgumentParser
import Foundation
import PromptCheck

struct AcceptCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "accept",
    abstract: "Turn pending golden files (*.new) into goldens.",
    discussion: """
      Renames each pending CASE.txt.new (or .json.new) over its golden and lists
      what it accepted. A FILTER keeps only the goldens whose SUITE/CASE contains
      it or matches it as a glob.

      Examples:
        promptcheck accept
        promptcheck accept 'refunds/*'
      """
  )

  @Argument(help: "Accept only goldens whose SUITE/CASE contains FILTER or matches it as a glob.")
  var filters: [String] = []

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  func run() throws {
    let status = GoldenCommandsCore.accept(filters: filters, configPath: config, ctx: .process())
    if status != 0 { throw ExitCode(status) }
  }
}

struct ReviewCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "review",
    abstract: "Walk the pending goldens: show each diff, then accept, reject or skip it.",
    discussion: """
      Answers are read from the terminal, or line by line from standard input
      when it is not a terminal (a for accept, r for reject, s for skip, q to quit).
      """
  )

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Flag(help: "No colour.")
  var noColor = false

  func run() throws {
    let ctx = CommandContext.process()
    let color = ctx.stdoutIsTTY && !noColor && (ctx.environment["NO_COLOR"] ?? "").isEmpty
    let status = GoldenCommandsCore.review(configPath: config, color: color, ctx: ctx) { Swift.readLine() }
    if status != 0 { throw ExitCode(status) }
  }
}

struct MergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Combine the JSON reports of shards into one set of reports.",
    discussion: """
      The result holds the cases in the order of an unsharded run. With no output
      option it writes .promptcheck/junit.xml and .promptcheck/report.json. Exit
      status as for run: 0, 1 (failures), 3 (errors), 2 (bad input).

      Example:
        promptcheck merge shard-*.json --junit junit.xml --html report.html
      """
  )

  @Argument(help: "JSON reports written by `promptcheck run --shard K/N --json FILE`.")
  var reports: [String]

  @Option(help: "JUnit XML output.")
  var junit: String?

  @Option(help: "JSON report output.")
  var json: String?

  @Option(help: "HTML report output.")
  var html: String?

  func validate() throws {
    if reports.isEmpty { throw ValidationError("give at least one JSON report to merge") }
  }

  func run() throws {
    let status = MergeCommandCore.run(files: reports, junit: junit, json: json, html: html, ctx: .process())
    if status != 0 { throw ExitCode(status) }
  }
}

struct InitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Write a starter promptcheck.yaml, an example suite and a GitHub Actions workflow.",
    discussion: "Refuses to overwrite existing files."
  )

  func run() throws {
    let status = InitCommandCore.run(ctx: .process())
    if status != 0 { throw ExitCode(status) }
  }
}
