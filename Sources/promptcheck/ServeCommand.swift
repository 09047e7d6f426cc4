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

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve the cassettes as an OpenAI-compatible endpoint for your application's own tests.",
    discussion: """
      POST /v1/chat/completions (JSON and stream: true) answers from the cassette whose
      request matches (the canonical body); a miss is a 404 whose message names the
      closest cassette and the first field that differs. GET /v1/models lists the
      recorded models. Point any OpenAI SDK's base_url at http://127.0.0.1:8089/v1.
      --mode auto records what it has not seen through the configured provider (under
      expectations/cassettes/served/), --mode record records everything; both are
      refused when CI is set. Ctrl-C stops.

      Examples:
        promptcheck serve
        promptcheck serve --mode auto --capture prompts/captured.yaml
      """
  )

  @Option(help: "The port (default 8089; 0 picks a free one).")
  var port = 8089

  @Option(help: "The address to listen on (default 127.0.0.1, this machine only).")
  var host = "127.0.0.1"

  @Option(help: "replay (default), auto (record misses) or record (record everything).")
  var mode: RunMode = .replay

  @Option(help: "Config file (default: promptcheck.yaml if present).")
  var config: String?

  @Option(help: ArgumentHelp("Append each new recording as a draft test case to this suite file.", valueName: "FILE"))
  var capture: String?

  @Option(help: "The largest request body, in bytes (default 4 MiB); larger ones get 413.")
  var maxBody = 4 * 1024 * 1024

  @Option(help: "Connections open at once (default 128); one more is answered 503 and closed.")
  var maxConnections = 128

  func run() async throws {
    guard maxConnections >= 1 else { throw ValidationError("--max-connections must be 1 or more") }
    guard maxBody >= 0 else { throw ValidationError("--max-body must be 0 or more") }
    var o = ServeCommandCore.Options()
    o.host = host
    o.port = port
    o.mode = mode
    o.configPath = config
    o.capture = capture
    o.limits.maxBody = maxBody
    o.limits.maxConnections = maxConnections
    guard let server = ServeCommandCore.start(o, .process()) else { throw ExitCode(2) }
    // Ctrl-C, TERM or HUP stops the server; the process then exits 0.
    await untilStopped { server.stop() }
    FileHandle.standardError.write(Data("stopped\n".utf8))
  }
}
