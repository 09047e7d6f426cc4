import Foundation
import LoopbackServer
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

/// A project folder whose provider is a loopback server; both go at the end of the test's scope.
final class Project: Sendable {
  let dir: TemporaryDirectory
  let server: LoopbackServer

  init(
    suites: [String: String], extraConfig: String = "", providerExtra: String = "",
    handler: @escaping @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply
  ) throws {
    dir = try TemporaryDirectory()
    server = try LoopbackServer(handler: handler)
    try dir.write(
      "promptcheck.yaml",
      """
      providers:
        local:
          base_url: \(server.baseURL)
          api_key_env: LOCAL_TEST_KEY
          model: test-model
      \(providerExtra)
      \(extraConfig)
      """)
    for (name, text) in suites { try dir.write("prompts/\(name).yaml", text) }
  }

  func run(_ args: [String], env: [String: String] = [:]) async -> BinaryRunner.Result {
    await CLI.run(
      ["run"] + args, in: dir.url, environment: ["LOCAL_TEST_KEY": "sk-test-0123456789abcdef"].merging(env) { $1 })
  }

  deinit {
    server.stop()
  }
}

/// Answers "Echo: <last user message>", so each case's output is predictable.
let echo: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
  let content = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
  if request.json?["stream"] == .bool(true) {
    return .sse(FakeOpenAI.stream(["Echo: ", content], model: request.model))
  }
  return .json(FakeOpenAI.completion("Echo: " + content, model: request.model))
}

let simpleSuite = """
  tests:
    - name: greets
      prompt: hello
      assert: [{contains: "Echo: hello"}]
    - name: streams
      prompt: streamed text
      params: {stream: true}
      assert: [{equals: "Echo: streamed text"}, {max-tokens: {total: 10}}]
  """
