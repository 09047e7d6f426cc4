import Foundation
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe
import Synchronization

/// `promptcheck serve`: the reviewed cassettes as an OpenAI-compatible endpoint, for an
/// application's own tests (README "Serving cassettes to your app's tests").
package enum ServeCommandCore {
  package struct Options: Sendable {
    package var host = "127.0.0.1"
    package var port = 8089
    package var mode = RunMode.replay
    package var configPath: String?
    /// Append each new recording as a draft test case to this suite file.
    package var capture: String?
    /// Body size, connections, buffered bodies, client timeouts.
    package var limits = HTTPServer.Limits()
    package init() {}
  }

  /// The running server: stop it to end `serve`.
  package final class Server: Sendable {
    package let http: HTTPServer
    package let index: CassetteIndex
    init(http: HTTPServer, index: CassetteIndex) {
      self.http = http
      self.index = index
    }
    package var port: Int { http.port }
    package func stop() { http.stop() }
  }

  /// Starts serving; nil after printing why it cannot.
  package static func start(_ o: Options, _ ctx: CommandContext) -> Server? {
    if o.mode == .live {
      ctx.report(
        Diagnostic(
          "serve replays (replay), records what it has not seen (auto) or records everything (record); live is not a serve mode",
          at: nil))
      return nil
    }
    if o.mode != .replay && ctx.isCI {
      ctx.report(
        Diagnostic(
          "serve --mode \(o.mode.rawValue) is refused when CI is set: CI replays reviewed cassettes only", at: nil))
      return nil
    }
    guard let config = ProjectLoader.loadConfigOrReport(configPath: o.configPath, ctx) else { return nil }
    let root = config.expectationsDir + "/cassettes"
    let index = CassetteIndex(root: root, absoluteRoot: ctx.absolute(root))
    for p in index.problems { ctx.err("warning: \(p) (not served)\n") }
    var recorder: ServeRecorder?
    if o.mode != .replay {
      guard let provider = config.provider(named: config.defaultProvider) else {
        ctx.report(Diagnostic("no provider to record through; set default_provider in promptcheck.yaml", at: nil))
        return nil
      }
      do {
        recorder = ServeRecorder(
          provider: provider,
          client: ChatClient(
            transport: try CurlTransport(), retry: RetryPolicy(retries: config.run.value(\.retries)),
            timeout: config.run.value(\.timeout), environment: ctx.environment,
            limits: config.run.callLimits),
          project: ctx.project, folder: ctx.absolute(root + "/served"), display: root + "/served",
          redactor: Redactor(
            providers: config.providers, environment: ctx.environment, references: config.urlReferences),
          capture: o.capture.map { ctx.absolute($0) }, log: { ctx.err($0) })
      } catch {
        ctx.report(Diagnostic("libcurl could not be initialised", at: nil))
        return nil
      }
    }
    if o.host != "127.0.0.1" && o.host != "localhost" {
      ctx.err(
        "warning: serving on \(o.host), not only this machine's loopback: anyone who reaches it reads the recorded answers\n"
      )
    }
    let through = recorder
    let http: HTTPServer
    do {
      http = try HTTPServer(
        host: o.host == "localhost" ? "127.0.0.1" : o.host, port: o.port, limits: o.limits, log: { ctx.err($0) }
      ) { request in
        let clock = ContinuousClock()
        let start = clock.now
        let (response, outcome) = ServeHandler.handle(request, index: index, mode: o.mode, recorder: through)
        let took = clock.now - start
        // Tenths of a millisecond, without Foundation's formatter on every request.
        let tenths = Int(took.components.seconds) * 10_000 + Int(took.components.attoseconds / 100_000_000_000_000)
        let ms = "\(tenths / 10).\(tenths % 10)"
        ctx.err(
          "\(LogText.escaped(request.method)) \(LogText.escaped(request.path)) \(response.status) \(LogText.escaped(outcome)) \(ms) ms\n"
        )
        return response
      }
    } catch {
      ctx.report(Diagnostic("\(error)", at: nil))
      return nil
    }
    let extras = [(index.stepCount, "later step"), (index.judgeCount, "judge call")].filter { $0.0 > 0 }
      .map { counted($0.0, $0.1) }
    ctx.err(
      "serving \(counted(index.count, "cassette"))\(extras.isEmpty ? "" : " (and \(extras.joined(separator: ", ")))") from \(root) on http://\(o.host):\(http.port)/v1 (mode \(o.mode.rawValue)); Ctrl-C stops\n"
    )
    return Server(http: http, index: index)
  }
}
