import ArgumentParser
import Foundation
import PromptCheck
import PromptCheckCore

struct ViewCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "view",
    abstract: "Browse the reports on this machine: the grid, diffs, judges' scores; accept goldens and label cases.",
    discussion: """
      Serves a page on http://127.0.0.1:PORT/ over the JSON report (default
      .promptcheck/report.json); a second REPORT is the base that "changed" and the
      diffs compare with. The page updates itself while run or watch write the
      report. Accepting a pending golden and labelling are POSTs that carry the
      page's token; requests from other sites are refused. Ctrl-C stops.

      Examples:
        promptcheck view
        promptcheck view .promptcheck/report.json main-report.json --port 9000
      """
  )

  @Argument(help: "The reports: the current one, then the base to compare with.")
  var reports: [String] = []

  @Option(help: "The port (default 8787; 0 picks a free one).")
  var port = 8787

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  func run() async throws {
    var o = ViewCommandCore.Options()
    o.port = port
    o.reports = reports
    o.configPath = config
    guard let server = ViewCommandCore.start(o, .process()) else { throw ExitCode(2) }
    await untilStopped { server.stop() }
    FileHandle.standardError.write(Data("stopped\n".utf8))
  }
}
