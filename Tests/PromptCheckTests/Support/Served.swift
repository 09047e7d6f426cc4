import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

/// A project with recorded cassettes (a JSON answer and a stream), served on a free port.
struct Served {
  let project: Project
  let server: ServeCommandCore.Server
  let log: Capture

  final class Capture: Sendable {
    let text = Mutex("")
    func append(_ s: String) { text.withLock { $0 += s } }
    var value: String { text.withLock { $0 } }
  }

  static let suite = """
    tests:
      - {name: plain, prompt: "Say hello", params: {temperature: 0}}
      - {name: streamed, prompt: "Count to three", params: {stream: true}}
    """

  init(
    mode: RunMode = .replay, capture: String? = nil, record: Bool = true, environment: [String: String] = [:],
    suite: String = Self.suite,
    handler: @escaping @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = echo
  ) async throws {
    project = try Project(suites: ["s": suite], handler: handler)
    if record { _ = await project.run(["--mode", "record"]) }
    let log = Capture()
    self.log = log
    var ctx = CommandContext(
      environment: ["LOCAL_TEST_KEY": "sk-test-0123456789abcdef"].merging(environment) { $1 },
      directory: project.dir.url.path, stdoutIsTTY: false, out: { log.append($0) }, err: { log.append($0) })
    ctx.terminalWidth = 80
    var o = ServeCommandCore.Options()
    o.port = 0
    o.mode = mode
    o.capture = capture
    o.limits.maxBody = 64 * 1024
    server = try #require(ServeCommandCore.start(o, ctx), "\(log.value)")
  }

  var baseURL: String { "http://127.0.0.1:\(server.port)/v1" }

  /// The recorded request body and response of a case, as the cassette holds them.
  func cassette(_ name: String) throws -> Cassette {
    try Cassette.parse(project.dir.read("expectations/cassettes/s/\(name).yaml"), file: name)
  }
}
