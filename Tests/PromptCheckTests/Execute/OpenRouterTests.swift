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

/// Replies from a script, one per request in arrival order (then the last again).
func replies(_ script: [LoopbackServer.Reply]) -> @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply {
  let next = Mutex(0)
  return { _, _ in
    let i = next.withLock { n in
      defer { n += 1 }
      return n
    }
    return script[min(i, script.count - 1)]
  }
}

@Suite struct OpenRouterParamsTests {
  @Test func reasoningEffortNoneIsSentAsGiven() async throws {
    let suite = """
      tests:
        - name: no thinking
          prompt: hi
          params:
            reasoning: {effort: none}
            include_reasoning: false
            provider: {order: [Cerebras, Groq], allow_fallbacks: false, sort: throughput, quantizations: [fp8], max_price: {prompt: 1, completion: 2}, data_collection: deny}
            models: [qwen/qwen3-32b, qwen/qwen3-14b]
            transforms: [middle-out]
            usage: {include: true}
      """
    let p = try Project(suites: ["s": suite], handler: replies([.json(FakeOpenRouter.completion("hello"))]))
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let body = try #require(p.server.requests.first?.json)
    #expect(body["reasoning"] == ["effort": "none"])
    #expect(body["include_reasoning"] == false)
    #expect(body["provider"]?["order"] == ["Cerebras", "Groq"])
    #expect(body["models"] == ["qwen/qwen3-32b", "qwen/qwen3-14b"])
    #expect(body["usage"] == ["include": true])
  }

  @Test(arguments: [
    (
      "reasoning: {effort: extreme}",
      "params.reasoning.effort must be xhigh, high, medium, low, minimal or none, found 'extreme'"
    ),
    (
      "tool_choice: anything",
      "params.tool_choice must be none, auto, required or {type: function, function: {name}}, found 'anything'"
    ),
    (
      "tool_choice: {type: function, function: {name: get_wether}}\n      tools: [{type: function, function: {name: get_weather, parameters: {type: object}}}]",
      "params.tool_choice names the function 'get_wether', which is not one of the case's tools (get_weather); did you mean 'get_weather'?"
    ),
    ("provider: {sort: cheapest}", "params.provider.sort must be price, throughput or latency, found 'cheapest'"),
    (
      "provider: {quantizations: [fp9]}",
      "params.provider.quantizations: 'fp9' is not one of int4, int8, fp4, fp6, fp8, fp16, bf16, fp32, unknown; did you mean 'fp4'?"
    ),
    ("provider: {ordr: [a]}", "unknown key 'ordr' in params.provider; did you mean 'order'?"),
    ("structured_outputs: maybe", "params.structured_outputs must be true or false, found the string 'maybe'"),
    ("models: qwen", "params.models must be a list, found the string 'qwen'"),
  ])
  func routingParamsAreValidated(param: String, message: String) {
    let (_, errors) = loadSuite("tests:\n  - name: t\n    prompt: x\n    params:\n      \(param)\n")
    #expect(errors.contains { $0.hasSuffix("error: " + message) }, "\(errors)")
  }

  @Test func droppableParamsWarnOncePerSuiteWithTheFix() {
    let suite = """
      tests:
        - name: a
          prompt: x
          params: {seed: 7, top_k: 3}
        - name: b
          prompt: y
          params: {seed: 8}
      """
    let warnings = loadWarnings(suite)
    #expect(
      warnings == [
        "prompts/s.yaml:4:14: warning: provider 'openrouter' is OpenRouter, which may route this request to a provider that ignores 'seed'; add 'provider: {require_parameters: true}' to params (or to defaults.params) so that only providers honouring every parameter answer"
      ])
    let fixed = "defaults: {params: {provider: {require_parameters: true}}}\n" + suite
    #expect(loadWarnings(fixed).isEmpty)
    // A provider that is not OpenRouter routes nowhere: no warning.
    var config = Config()
    config.providers = [Provider(name: "local", baseURL: "http://127.0.0.1:8088/v1", apiKeyEnv: nil, model: "m")]
    config.defaultProvider = "local"
    #expect(loadWarnings(suite, config: config).isEmpty)
  }

  @Test func validateShowsTheWarningAndStillPasses() async throws {
    let dir = try TemporaryDirectory()
    try dir.write("prompts/s.yaml", "tests:\n  - name: a\n    prompt: x\n    params: {logit_bias: {\"42\": -100}}\n")
    let r = await CLI.run(["validate"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stderr.contains("prompts/s.yaml:4:14: warning: provider 'openrouter' is OpenRouter"))
    #expect(r.stdout == "ok: 1 suite, 1 tests, 1 cases\n")
  }
}

@Suite struct OpenRouterConfigTests {
  @Test(arguments: [
    (
      "base_url: https://openrouter.ai/api/v1/chat/completions",
      "providers.or.base_url ends in /chat/completions, which promptcheck appends itself; use 'https://openrouter.ai/api/v1'"
    ),
    (
      "base_url: https://openrouter.ai/api/v1\n    api_key_env: $OPENROUTER_API_KEY",
      "providers.or.api_key_env is the variable's name without '$': write 'OPENROUTER_API_KEY'"
    ),
    (
      "base_url: https://openrouter.ai/api/v1\n    api_key_env: '${OPENROUTER_API_KEY}'",
      "providers.or.api_key_env is the variable's name without '$': write 'OPENROUTER_API_KEY'"
    ),
    (
      "base_url: https://openrouter.ai/api/v1\n    api_key_env: ''",
      "providers.or.api_key_env is empty: name the variable that holds the key, or remove it for a server that needs none"
    ),
    (
      "base_url: ftp://openrouter.ai/api/v1",
      "providers.or.base_url must start with http:// or https://, found 'ftp://openrouter.ai/api/v1'"
    ),
    (
      "base_url: https://openrouter.ai/api/v1\n    pricing: {prompt: 0.08}",
      "providers.or.pricing needs prompt and completion (USD per million tokens)"
    ),
  ])
  func configMistakesAreLoadErrorsWithTheFix(provider: String, message: String) {
    let (_, problems) = ConfigLoader.load(text: "providers:\n  or:\n    \(provider)\n", file: "promptcheck.yaml")
    #expect(problems.map(\.message).contains(message), "\(problems.map(\.message))")
  }

  @Test func pricingLoads() {
    let (c, problems) = ConfigLoader.load(
      text:
        "providers:\n  or:\n    base_url: https://openrouter.ai/api/v1\n    pricing: {prompt: 0.08, completion: 0.28}\nthink_tags: keep\nretry_empty: false\n",
      file: "promptcheck.yaml")
    #expect(problems.isEmpty)
    #expect(c.provider(named: "or")?.pricing == Provider.Pricing(prompt: 0.08, completion: 0.28))
    #expect(c.thinkTags == .keep)
    #expect(c.retryEmpty == false)
  }
}

@Suite struct OpenRouterAnswerTests {
  static let suite = "tests:\n  - name: t\n    prompt: x\n    assert: [{contains: fine}]\n"

  @Test func a200WithATransientErrorObjectIsRetriedThenPasses() async throws {
    let p = try Project(
      suites: ["s": Self.suite],
      handler: replies([.json(FakeOpenRouter.errorBody(503)), .json(FakeOpenRouter.completion("all fine"))]))
    let r = await p.run(["--mode", "record", "--json", "r.json"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(p.server.requests.count == 2)
    #expect(try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue?.first?["attempts"] == 2)
  }

  @Test func aNonTransientErrorObjectErrorsAtOnce() async throws {
    let p = try Project(
      suites: ["s": Self.suite], handler: replies([.json(FakeOpenRouter.errorBody(400, "context too long"))]))
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(p.server.requests.count == 1)
    #expect(r.stdout.contains("the server answered 200 with an error: context too long (code 400)"))
    #expect(!p.dir.exists("expectations/cassettes/s/t.yaml"))
  }

  @Test func aMidStreamRateLimitIsRetried() async throws {
    let suite = "tests:\n  - name: t\n    prompt: x\n    params: {stream: true}\n    assert: [{equals: all fine}]\n"
    let p = try Project(
      suites: ["s": suite],
      handler: replies([
        .sse(FakeOpenRouter.stream(["all ", "fine"], failAt: 429)), .sse(FakeOpenRouter.stream(["all ", "fine"])),
      ]))
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(p.server.requests.count == 2)
    // The recorded stream keeps the processing comments out (they carry no data) and replays.
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 0)
  }

  @Test(arguments: [
    (#"{"id": "x", "choices": []}"#, "the response is malformed: 'choices' is empty"),
    (
      #"{"choices": [{"message": {"role": "assistant", "content": 42}, "finish_reason": "stop"}]}"#,
      "the response is malformed: choices[0].message.content is 42, not text"
    ),
    (
      #"{"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": "lots"}"#,
      "the response is malformed: 'usage' is \"lots\", not an object"
    ),
    (#"{"choices": "none"}"#, "the response is malformed: 'choices' is \"none\", not a list"),
  ])
  func aMalformed200ErrorsAndIsNeverRecorded(body: String, message: String) async throws {
    let p = try Project(
      suites: ["s": Self.suite],
      handler: replies([.full(status: 200, headers: [("Content-Type", "application/json")], body: body)]))
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains(message), "\(r.stdout)")
    #expect(!p.dir.exists("expectations/cassettes/s/t.yaml"))
    #expect(p.server.requests.count == 1)
  }

  @Test func anEmptyAnswerIsAskedAgainOnceThenErrors() async throws {
    let empty = JSON.object(
      JSONObject([
        ("choices", [["index": 0, "message": ["role": "assistant", "content": ""], "finish_reason": .null]])
      ]))
    let p = try Project(
      suites: ["s": Self.suite], handler: replies([.json(empty), .json(FakeOpenRouter.completion("fine"))]))
    #expect(await p.run(["--mode", "live"]).status == 0)
    #expect(p.server.requests.count == 2)
    let q = try Project(suites: ["s": Self.suite], handler: replies([.json(empty)]))
    let r = await q.run(["--mode", "live"])
    #expect(r.status == 3)
    #expect(q.server.requests.count == 2)
    #expect(r.stdout.contains("the answer was empty: no content, no tool calls and no finish reason (2 times)"))
    let off = try Project(
      suites: ["s": Self.suite], extraConfig: "retry_empty: false", handler: replies([.json(empty)]))
    _ = await off.run(["--mode", "live"])
    #expect(off.server.requests.count == 1)
  }
}

@Suite struct ThinkTagTests {
  static let suite = """
    tests:
      - name: t
        prompt: x
        assert:
          - equals: "The answer is 4."
          - {contains: "2 + 2", on: reasoning}
          - {not-contains: "<think>", on: output}
        golden: true
    """
  static let answer = "<think>\nThe user asks 2 + 2. That is 4.\n</think>\n\nThe answer is 4."

  @Test func inlineThinkingIsSplitOffTheAnswer() async throws {
    let p = try Project(suites: ["s": Self.suite], handler: replies([.json(FakeOpenRouter.completion(Self.answer))]))
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1)  // only the golden is missing
    #expect(try p.dir.read("expectations/golden/s/t.txt.new") == "The answer is 4.\n")
    // The cassette keeps the raw body.
    #expect(try p.dir.read("expectations/cassettes/s/t.yaml").contains("<think>"))
    try p.dir.write("expectations/golden/s/t.txt", "The answer is 4.")
    p.server.stop()
    #expect(await p.run(["--mode", "replay"]).status == 0)
  }

  @Test func keepLeavesTheContentAsSent() async throws {
    let p = try Project(
      suites: ["s": Self.suite], extraConfig: "think_tags: keep",
      handler: replies([.json(FakeOpenRouter.completion(Self.answer))]))
    let r = await p.run(["--mode", "live"])
    #expect(r.stdout.contains("expected the output to equal \"The answer is 4.\""))
  }

  @Test func splitting() {
    #expect(Completion(content: "<think>a</think>b").splittingThinkTags().content == "b")
    #expect(Completion(content: "<think>a</think>b").splittingThinkTags().reasoning == "a")
    #expect(Completion(content: "  <think>cut off").splittingThinkTags().content == "")
    #expect(Completion(content: "  <think>cut off").splittingThinkTags().reasoning == "cut off")
    #expect(Completion(content: "no <think>here</think>").splittingThinkTags().content == "no <think>here</think>")
  }
}

@Suite struct UsageAndCostTests {
  @Test func usageDetailsAssertionsAndTotals() async throws {
    let suite = """
      tests:
        - name: t
          prompt: x
          assert:
            - max-tokens: {reasoning: 60, cached: 100}
            - not-max-tokens: {reasoning: 10}
            - served-model: '^qwen/qwen3-32b$'
            - served-provider: [Cerebras, Groq]
            - not-served-provider: Together
            - max-cost: 0.0001
      """
    let p = try Project(suites: ["s": suite], handler: replies([.json(FakeOpenRouter.completion("hi"))]))
    let r = await p.run(["--mode", "record", "--json", "r.json", "--junit", "r.xml"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(r.stdout.contains("tokens: 120 prompt (100 cached), 80 completion (50 reasoning); cost $0.00003"))
    let report = try JSON.parse(p.dir.read("r.json"))
    #expect(report["summary"]?["usage"]?["reasoning_tokens"] == 50)
    #expect(report["summary"]?["usage"]?["cached_tokens"] == 100)
    #expect(report["summary"]?["usage"]?["cost"] == 0.00003)
    #expect(report["cases"]?.arrayValue?.first?["usage"]?["reasoning_tokens"] == 50)
    #expect(try p.dir.read("r.xml").contains("<property name=\"promptcheck.reasoning_tokens\" value=\"50\"/>"))
    // Replayed, the totals are those of the recorded answers.
    let replayed = await p.run(["--mode", "replay"])
    #expect(
      replayed.stdout.contains(
        "tokens: 120 prompt (100 cached), 80 completion (50 reasoning); cost $0.00003 (as recorded)"))
  }

  @Test func servedAssertionsFail() async throws {
    let suite =
      "tests:\n  - name: t\n    prompt: x\n    assert: [{served-provider: Groq}, {served-model: '^openai/'}]\n"
    let p = try Project(suites: ["s": suite], handler: replies([.json(FakeOpenRouter.completion("hi"))]))
    let r = await p.run(["--mode", "live"])
    #expect(
      r.stdout.contains(
        "assert[0] served-provider: expected the response to be served by \"Groq\", but it was served by \"Cerebras\""))
    #expect(
      r.stdout.contains(
        "assert[1] served-model: expected the response to be served by a model matching /^openai//, but it was served by \"qwen/qwen3-32b\""
      ))
  }

  @Test func maxCostWithoutAKnownCostIsRefusedAtStart() async throws {
    let p = try Project(suites: ["s": "tests:\n  - {name: t, prompt: x}\n"], handler: echo)
    let r = await p.run(["--mode", "live", "--max-cost", "1"])
    #expect(r.status == 2)
    #expect(
      r.stderr
        == "error: --max-cost needs the cost of each call, but provider 'local' reports no usage.cost; give it pricing: {prompt: USD, completion: USD} (per million tokens) in promptcheck.yaml; nothing was run\n"
    )
    #expect(p.server.requests.isEmpty)
  }
}

@Suite struct OpenRouterExampleTests {
  /// The README's OpenRouter example loads cleanly: every key valid, and no droppable-param warning.
  @Test func theExampleValidatesWithoutWarnings() async throws {
    let r = await CLI.run(
      ["validate", "--config", "Tests/examples/openrouter/promptcheck.yaml"], in: TestPaths.packageRoot)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.isEmpty, "\(r.stderr)")
    #expect(r.stdout == "ok: 1 suite, 2 tests, 11 cases\n")
  }
}
