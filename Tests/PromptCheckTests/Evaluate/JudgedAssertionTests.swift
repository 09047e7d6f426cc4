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

@Suite struct JudgedAssertionTests {
  static let rubricSuite = """
    tests:
      - name: polite
        prompt: hello
        assert:
          - llm-rubric: The answer greets the user politely
    """

  func report(_ p: Project) throws -> JSON { try JSON.parse(p.dir.read(".promptcheck/report.json")) }
  func firstCase(_ p: Project) throws -> JSON? { try report(p)["cases"]?.arrayValue?.first }
  func graderRequests(_ p: Project) -> [JSON] {
    p.server.requests.compactMap(\.json).filter {
      $0["messages"]?.arrayValue?.first?["content"]?.stringValue == Judging.graderInstructions
    }
  }

  @Test func verdictViaJSONSchemaRecordsAndReplaysOffline() async throws {
    let p = try Project(suites: ["s": Self.rubricSuite], handler: JudgeServer().handler)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    let graded = graderRequests(p)
    #expect(graded.count == 1)
    #expect(graded.first?["response_format"]?["type"] == "json_schema")
    #expect(graded.first?["temperature"] == 0)
    let a = try firstCase(p)?["assertions"]?.arrayValue?.first
    #expect(a?["score"] == .double(0.9))
    #expect(a?["reason"] == "it is polite")
    #expect(a?["kind"] == "llm-rubric")
    // The grader's call sits in the case's cassette beside the main call.
    let cassette = try p.dir.read("expectations/cassettes/s/polite.yaml")
    #expect(cassette.contains("judges:\n- assert: assert[0] (llm-rubric)\n"))
    #expect(!cassette.contains("sk-test-0123456789abcdef"))
    // Judge cost counts in the run's totals.
    #expect(try report(p)["summary"]?["usage"]?["cost"] == .double(0.001))
    p.server.stop()
    r = await CLI.run(["run", "--mode", "replay"], in: p.dir.url)
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try firstCase(p)?["assertions"]?.arrayValue?.first?["reason"] == "it is polite")
    #expect(try firstCase(p)?["judge_usage"]?["total_tokens"] == 120)
  }

  @Test func aServerWithoutJSONSchemaIsAskedForJSONObject() async throws {
    var server = JudgeServer()
    server.accepts = ["json_object", "text"]
    let p = try Project(suites: ["s": Self.rubricSuite], handler: server.handler)
    #expect(await p.run(["--mode", "record"]).status == 0)
    #expect(graderRequests(p).map { $0["response_format"]?["type"]?.stringValue } == ["json_schema", "json_object"])
    let cassette = try p.dir.read("expectations/cassettes/s/polite.yaml")
    #expect(cassette.contains("type: json_object"))
    p.server.stop()
    #expect(await CLI.run(["run", "--mode", "replay"], in: p.dir.url).status == 0)
  }

  @Test func aVerdictInPlainTextIsFoundAndAFailureQuotesTheReason() async throws {
    var server = JudgeServer()
    // llama-cpp-python's answer to a format it lacks: 500, naming response_format (not retried).
    server.accepts = ["text"]
    server.refusal = (500, "Input should be 'text' or 'json_object' (body.response_format.type)")
    server.verdict = { _, _ in #"Verdict: {"pass": false, "score": 0.1, "reason": "it is curt"} — done"# }
    let p = try Project(suites: ["s": Self.rubricSuite], handler: server.handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1)
    #expect(graderRequests(p).count == 3)
    #expect(
      r.stdout.contains(
        #"expected the output to meet the rubric "The answer greets the user politely", but the grader says it does not (score 0.1): "it is curt""#
      ), "\(r.stdout)")
    let junit = try p.dir.read(".promptcheck/junit.xml")
    #expect(junit.contains("it is curt"))
  }

  @Test func aReplyWithoutAVerdictErrorsTheCase() async throws {
    var server = JudgeServer()
    server.verdict = { _, _ in "I think the answer is fine." }
    let p = try Project(suites: ["s": Self.rubricSuite], handler: server.handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(r.stdout.contains("assert[0] (llm-rubric): the grader's reply holds no JSON verdict {pass, score, reason}"))
    #expect(try firstCase(p)?["status"] == "errored")
    // A verdict out of range is no verdict either.
    var bad = JudgeServer()
    bad.verdict = { _, _ in #"{"pass": "yes", "score": 7}"# }
    let q = try Project(suites: ["s": Self.rubricSuite], handler: bad.handler)
    let r2 = await q.run(["--mode", "record"])
    #expect(r2.status == 3)
    #expect(r2.stdout.contains(#"the grader's verdict has pass "yes", not true or false"#))
  }

  @Test func aRateLimitedGraderIsAskedAgain() async throws {
    var server = JudgeServer()
    server.rateLimitGraderOnce = true
    let p = try Project(suites: ["s": Self.rubricSuite], handler: server.handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(graderRequests(p).count == 2)
  }

  @Test func editingTheRubricMakesTheJudgeCallStaleAndAutoRecordsOnlyIt() async throws {
    let p = try Project(suites: ["s": Self.rubricSuite], handler: JudgeServer().handler)
    #expect(await p.run(["--mode", "record"]).status == 0)
    try p.dir.write("prompts/s.yaml", Self.rubricSuite.replacingOccurrences(of: "politely", with: "warmly"))
    var r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "assert[0] (llm-rubric): cassette expectations/cassettes/s/polite.yaml is stale: its judge call differs: body.messages[1].content differs at line 2 of 7"
      ),
      "\(r.stdout)")
    #expect(r.stdout.contains("record it with: promptcheck run --mode record --case 's/polite'"))
    #expect(try firstCase(p)?["cassette"]?["status"] == "stale")
    let before = p.server.requests.count
    r = await p.run(["--mode", "auto"])
    #expect(r.status == 0, "\(r.stdout)")
    // Only the grader was asked: the case's own answer replayed.
    let asked = p.server.requests[before...].compactMap(\.json)
    #expect(asked.count == 1)
    #expect(asked.first?["messages"]?.arrayValue?.first?["content"]?.stringValue == Judging.graderInstructions)
    let cassette = try p.dir.read("expectations/cassettes/s/polite.yaml")
    #expect(cassette.contains("warmly"))
    #expect(!cassette.contains("politely"))
    p.server.stop()
    #expect(await CLI.run(["run", "--mode", "replay"], in: p.dir.url).status == 0)
  }

  @Test func similarComparesEmbeddings() async throws {
    var server = JudgeServer()
    server.vectors = [
      "Echo: hello": [1, 0, 0], "Hello to you": [0.99, 0.14, 0], "Goodbye": [0.5, 0.866, 0],
    ]
    let suite = """
      tests:
        - name: close
          prompt: hello
          assert:
            - similar: Hello to you
            - similar: {value: [Goodbye, Hello to you], threshold: 0.95}
            - not-similar: {value: Goodbye, threshold: 0.9}
        - name: far
          prompt: hello
          assert:
            - similar: {value: Goodbye, threshold: 0.8}
      """
    let p = try Project(suites: ["s": suite], handler: server.handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1)
    let cases = try report(p)["cases"]?.arrayValue ?? []
    #expect(cases.first?["status"] == "passed")
    let score = cases.first?["assertions"]?.arrayValue?[0]["score"]?.numberValue ?? 0
    #expect(abs(score - 0.99015) < 1e-4)
    #expect(
      r.stdout.contains(
        #"expected the output to be similar to "Goodbye" (cosine similarity at least 0.8), but its similarity is 0.5"#),
      "\(r.stdout)")
    // One embeddings call per text, the subject first.
    let embedded = p.server.requests.filter { $0.path.hasSuffix("/embeddings") }.compactMap(\.json)
    #expect(embedded.count == 9)
    #expect(embedded.allSatisfy { $0["input"]?.stringValue != nil })
    #expect(embedded.filter { $0["input"] == "Echo: hello" }.count == 4)
    p.server.stop()
    #expect(await CLI.run(["run", "--mode", "replay"], in: p.dir.url).status == 1)
    #expect(try report(p)["cases"]?.arrayValue?.first?["status"] == "passed")
  }

  @Test func execJudgesFromTheCaseOnStandardInput() async throws {
    let suite = """
      tests:
        - name: reads stdin
          prompt: hello
          assert:
            - exec: "grep -q '\\"output\\":\\"Echo: hello\\"'"
            - exec: [sh, -c, "echo too short >&2; exit 1"]
            - exec: {command: "echo '{\\"pass\\": false, \\"score\\": 0.25, \\"reason\\": \\"no greeting\\"}'"}
        - name: slow
          prompt: hello
          assert:
            - exec: {command: "sleep 10", timeout_ms: 200}
        - name: broken
          prompt: hello
          assert:
            - exec: "exit 4"
        - name: closes its output and lingers
          prompt: hello
          assert:
            - exec: {command: "exec >&- 2>&-; sleep 10", timeout_ms: 300}
      """
    let p = try Project(suites: ["s": suite], handler: echo)
    let r = await p.run(["--mode", "record"])
    // A failure and errored cases: the failure decides (README "Exit status").
    #expect(r.status == 1)
    let cases = try report(p)["cases"]?.arrayValue ?? []
    let a = cases.first?["assertions"]?.arrayValue ?? []
    #expect(a.map { $0["passed"] } == [true, false, false])
    #expect(a[1]["message"]?.stringValue?.contains("it failed (exit status 1); stderr: \"too short\"") == true)
    #expect(a[2]["message"]?.stringValue?.contains(#"it failed (exit status 0), score 0.25: "no greeting""#) == true)
    #expect(a[2]["score"] == .double(0.25))
    #expect(cases[1]["status"] == "errored")
    #expect(
      cases[1]["error"]?.stringValue?.contains("`sleep 10` ran longer than 200 ms (timeout_ms) and was killed") == true)
    #expect(cases[2]["error"]?.stringValue?.contains("exited with status 4 (0 passes, 1 fails)") == true)
    #expect(cases[3]["error"]?.stringValue?.contains("ran longer than 300 ms (timeout_ms) and was killed") == true)
    // Local: it replays the same, with the server gone.
    p.server.stop()
    #expect(await CLI.run(["run", "--mode", "replay", "--filter", "reads"], in: p.dir.url).status == 1)
  }

  @Test func anyOfWeightsAndThreshold() async throws {
    let suite = """
      tests:
        - name: weighted pass
          prompt: hello
          threshold: 0.7
          assert:
            - {contains: nope, weight: 1}
            - {contains: Echo, weight: 3}
        - name: weighted fail
          prompt: hello
          threshold: 0.8
          assert:
            - {contains: nope, weight: 1}
            - {contains: Echo, weight: 3}
        - name: alternatives
          prompt: hello
          assert:
            - any-of: [{contains: nope}, {regex: "^Echo"}]
            - not-any-of: [{contains: nope}, {contains: nada}]
            - {contains: informational only, weight: 0}
        - name: none of them
          prompt: hello
          assert:
            - any-of: [{contains: nope}, {contains: nada}]
      """
    let p = try Project(suites: ["s": suite], handler: echo)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1)
    let cases = try report(p)["cases"]?.arrayValue ?? []
    #expect(cases.map { $0["status"]?.stringValue } == ["passed", "failed", "passed", "failed"])
    #expect(cases[0]["score"] == .double(0.75))
    #expect(cases[1]["notes"]?.arrayValue?.contains("weighted score 0.75 (3 of 4), threshold 0.8: not met") == true)
    #expect(
      r.stdout.contains(
        #"assert[0] any-of: expected the case to pass one of 2 alternatives, but none does: assert[0].any-of[0] contains: expected the output to contain "nope""#
      ), "\(r.stdout)")
  }

  @Test func transformsShapeTheOutputBeforeTheChecks() async throws {
    var server = JudgeServer()
    server.answer = { prompt in
      switch prompt {
      case "fenced": return "```json\n{\"a\": 1}\n```"
      case "chatty": return "Here it is: {\"a\": [1, 2]} — enjoy"
      default: return "The answer: forty-two."
      }
    }
    let suite = """
      tests:
        - name: fenced
          prompt: fenced
          transform: strip-code-fence
          assert:
            - is-json: true
            - json-path: {path: $.a, equals: 1}
        - name: chatty
          prompt: chatty
          assert:
            - {json-path: {path: "$.a[1]", equals: 2}, transform: extract-json}
            - {is-json: true, transform: [extract-json, {regex-capture: '\\[(.*)\\]'}], name: inner}
        - name: captured
          prompt: captured
          assert:
            - {equals: forty-two, transform: {regex-capture: 'answer: ([a-z-]+)'}}
            - {is-json: true, transform: extract-json}
      """
    let p = try Project(suites: ["s": suite], handler: server.handler)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 1)
    let cases = try report(p)["cases"]?.arrayValue ?? []
    #expect(cases.map { $0["status"]?.stringValue } == ["passed", "failed", "failed"])
    // `1, 2` is not JSON: the chain ran, then the check failed on what it left.
    #expect(cases[1]["assertions"]?.arrayValue?.map { $0["passed"] } == [true, false])
    #expect(cases[2]["assertions"]?.arrayValue?[0]["passed"] == true)
    #expect(
      cases[2]["assertions"]?.arrayValue?[1]["message"]?.stringValue?.contains(
        "its transform failed: extract-json found no JSON object or array") == true)
  }

  @Test func judgeCallsSpendTheMaxCostBudget() async throws {
    let suite = """
      tests:
        - name: first
          prompt: one
          params: {max_tokens: 10}
          assert: [{llm-rubric: polite}]
        - name: second
          prompt: two
          params: {max_tokens: 10}
          assert: [{llm-rubric: polite}]
      """
    // The answers cost $0.000015 (priced); the grader reports $0.001 a call.
    let p = try Project(
      suites: ["s": suite], extraConfig: "grader: {params: {max_tokens: 20}}",
      providerExtra: "    pricing: {prompt: 1, completion: 1}", handler: JudgeServer().handler)
    let r = await p.run(["--mode", "record", "--jobs", "1", "--max-cost", "0.0012"])
    #expect(r.status == 3, "\(r.stdout)")
    let cases = try report(p)["cases"]?.arrayValue ?? []
    #expect(cases.map { $0["status"]?.stringValue } == ["passed", "errored"])
    // Without the grader's cost the second answer would have fitted.
    #expect(
      cases[1]["error"]?.stringValue?.hasPrefix("budget exhausted: not sent, live calls have cost $0.001015") == true)
    #expect(try report(p)["summary"]?["usage"]?["cost"] == .double(0.001015))
  }

  @Test func graderAndEmbeddingsComeFromTheConfig() async throws {
    let server = JudgeServer()
    let p = try Project(
      suites: ["s": Self.rubricSuite],
      extraConfig: "grader: {provider: local, model: judge-1, params: {max_tokens: 50}}",
      handler: server.handler)
    #expect(await p.run(["--mode", "record"]).status == 0)
    let graded = graderRequests(p).first
    #expect(graded?["model"] == "judge-1")
    #expect(graded?["max_tokens"] == 50)
  }

  @Test func judgedAssertionMistakesAreLoadErrors() async throws {
    let suite = """
      tests:
        - name: t
          prompt: hi
          threshold: 2
          transform: strip-fences
          assert:
            - llm-rubric: {rubric: polite, provider: nowhere}
            - any-of: [{any-of: [{contains: a}]}]
            - similar: {threshold: 0.5}
            - exec: []
            - {type: llm-rubric, value: polite, threshold: 0.5, weight: -1}
      """
    let p = try Project(suites: ["s": suite], handler: echo)
    let r = await CLI.run(["validate"], in: p.dir.url)
    #expect(r.status == 2)
    for expected in [
      "prompts/s.yaml:4:16: error: threshold must be",
      "prompts/s.yaml:5:16: error: unknown transform 'strip-fences'; did you mean 'strip-code-fence'?",
      "prompts/s.yaml:7:48: error: assert[0] (llm-rubric).provider: unknown provider 'nowhere'",
      "prompts/s.yaml:8:19: error: any-of cannot hold another any-of",
      "prompts/s.yaml:9:18: error: assert[2] (similar) needs a value",
      "prompts/s.yaml:10:15: error: assert[3] (exec).command is an empty list",
      "prompts/s.yaml:11:67: error: assert[4].weight must be",
    ] {
      #expect(r.stdout.contains(expected) || r.stderr.contains(expected), "\(expected)\n\(r.stdout)\(r.stderr)")
    }
  }
}

@Suite struct JudgingTests {
  @Test func verdictsAreReadStrictly() throws {
    func v(_ text: String, threshold: Double? = nil) -> Result<Verdict, JudgeError> {
      Judging.verdict(from: Completion(content: text), threshold: threshold)
    }
    #expect(
      try v(#"{"pass": true, "score": 0.8, "reason": "ok"}"#).get() == Verdict(pass: true, score: 0.8, reason: "ok"))
    // The score decides under a threshold.
    #expect(try v(#"{"pass": true, "score": 0.6}"#, threshold: 0.7).get().pass == false)
    #expect(try v(#"{"score": 0.6}"#).get().pass == true)
    #expect(try v(#"{"pass": false}"#).get().score == 0)
    // Thinking first (qwen3), then the verdict.
    #expect(try v("<think>hmm</think>\n{\"pass\": true}").get().pass)
    #expect(throws: JudgeError.self) { try v("{}").get() }
    #expect(throws: JudgeError.self) { try v(#"{"pass": true, "score": 1.5}"#).get() }
    #expect(throws: JudgeError.self) { try v("").get() }
  }

  @Test func similaritiesUseCosineAndPoolTokenVectors() throws {
    let bodies: [JSON] = [
      ["data": [["index": 0, "embedding": [[1, 0], [1, 0]]]]],
      ["data": [["index": 0, "embedding": [0, 1]]]],
      ["data": [["index": 0, "embedding": [1, 1]]]],
    ]
    let s = try Judging.similarities(from: bodies).get()
    #expect(s.count == 2)
    #expect(abs(s[0]) < 1e-12)
    #expect(abs(s[1] - 0.5.squareRoot()) < 1e-12)
    #expect(throws: JudgeError.self) {
      try Judging.similarities(from: [["data": [["embedding": [1]], ["embedding": [1]]]]]).get()
    }
    #expect(throws: JudgeError.self) {
      try Judging.similarities(from: [["data": [["embedding": [0, 0]]]], ["data": [["embedding": [1, 0]]]]]).get()
    }
  }

  @Test func transformsChain() throws {
    #expect(try Transform.stripCodeFence.apply("```json\n[1]\n```\n").get() == "[1]")
    #expect(try Transform.stripCodeFence.apply("  plain \n").get() == "plain")
    #expect(try Transform.extractJSON.apply(#"x {"s": "}{"} y [1]"#).get() == #"{"s": "}{"}"#)
    #expect(try Transform.extractJSON.apply("a {broken [2] b").get() == "[2]")
    let capture = Transform.regexCapture(try CompiledRegex("id=(\\d+)"))
    #expect(try capture.apply("the id=42.").get() == "42")
    #expect(try Transform.apply([.stripCodeFence, .extractJSON], to: "```\nsay {\"k\": 1}\n```").get() == #"{"k": 1}"#)
    #expect(throws: JudgeError.self) { try Transform.apply([.extractJSON, capture], to: "nothing").get() }
    // A megabyte of unclosed brackets: none found, in a few passes rather than quadratic time.
    #expect(throws: JudgeError.self) { try Transform.extractJSON.apply(String(repeating: "{", count: 1 << 20)).get() }
    #expect(
      try Transform.extractJSON.apply(String(repeating: "[", count: 1000) + " {\"ok\": 1}").get() == #"{"ok": 1}"#)
    #expect(try Transform.extractJSON.apply(#"5" screen, {a] then {"b": [2]}"#).get() == #"{"b": [2]}"#)
  }

  @Test func execReadsJSONFirstThenTheExitStatus() throws {
    #expect(try Judging.execOutcome(status: 1, stdout: #"{"pass": true}"#, stderr: "").get().passed)
    #expect(try Judging.execOutcome(status: 0, stdout: "fine", stderr: "").get().passed)
    #expect(try !Judging.execOutcome(status: 1, stdout: "", stderr: "no").get().passed)
    #expect(throws: JudgeError.self) { try Judging.execOutcome(status: 2, stdout: "", stderr: "").get() }
  }
}

@Suite struct JudgedEvaluationTests {
  func assertions(_ yaml: String) throws -> [Assertion] {
    let (suite, diagnostics) = SuiteLoader.load(
      text: "tests:\n  - name: t\n    prompt: x\n    assert:\n" + yaml, file: "s.yaml", name: "s", config: Config())
    #expect(diagnostics.isEmpty, "\(diagnostics)")
    return try #require(suite?.tests.first?.variants.first?.assertions)
  }

  @Test func notLLMRubricPassesOnAFailingVerdictAndInvertsTheScore() throws {
    let a = try assertions("      - not-llm-rubric: mentions a competitor\n      - llm-rubric: is polite\n")
    let verdict = Verdict(pass: false, score: 0.2, reason: "no competitor named")
    let findings = AssertionEvaluator().evaluate(
      a, on: Completion(content: "Hello"),
      judgements: ["0": .success(.verdict(verdict)), "1": .success(.verdict(verdict))])
    #expect(findings.map(\.passed) == [true, false])
    #expect(findings[0].score == 0.8)
    #expect(findings[1].score == 0.2)
    #expect(findings[0].message.contains(#"the grader says it does not (score 0.2): "no competitor named""#))
    // No judgement (a judge that errored the case) never passes, negated or not.
    let unjudged = AssertionEvaluator().evaluate(a, on: Completion(content: "Hello"))
    #expect(unjudged.map(\.passed) == [false, false])
  }
}

@Suite struct SubprocessTests {
  /// Commands started at the same time each see the end of their own input: no child inherits
  /// another's pipe ends (a stray write end kept `wc -c` waiting until its timeout).
  @Test func concurrentCommandsEachSeeTheEndOfTheirInput() async {
    let results = await withTaskGroup(of: Result<Subprocess.Finished, Subprocess.LaunchError>.self) { group in
      for i in 0..<12 {
        group.addTask {
          await Subprocess.run(["sh", "-c", "wc -c"], input: String(repeating: "x", count: i), timeoutMS: 8000)
        }
      }
      var all: [Result<Subprocess.Finished, Subprocess.LaunchError>] = []
      for await r in group { all.append(r) }
      return all
    }
    let finished = results.compactMap { try? $0.get() }
    #expect(finished.count == 12)
    #expect(finished.allSatisfy { !$0.timedOut && $0.status == 0 })
    #expect(Set(finished.compactMap { Int($0.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }) == Set(0..<12))
  }
}
