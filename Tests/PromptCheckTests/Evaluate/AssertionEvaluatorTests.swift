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

let refundOutput = "Our refund window is 30 days from delivery. Contact support@acme.test to start a return."

let sampleResponse: JSON = [
  "id": "gen-1", "model": "qwen/qwen3-32b", "provider": "Groq",
  "choices": [
    [
      "index": 0, "finish_reason": "tool_calls",
      "message": [
        "role": "assistant", "content": "{\"answer\": 42, \"tags\": [\"a\", \"b\"]}", "reasoning": "Think: 6*7.",
        "tool_calls": [
          [
            "id": "c1", "type": "function",
            "function": ["name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 3}"],
          ]
        ],
      ],
    ]
  ],
  "usage": ["prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150, "cost": 0.00042],
]

@Suite struct AssertionEvaluatorTests {
  let text = Completion(content: refundOutput, latencyMS: 250)
  let rich = Completion(response: sampleResponse, latencyMS: 900)

  /// (assertion YAML, passes?) on `text`.
  @Test(arguments: [
    ("- equals: \"\(refundOutput)\"", true), ("- equals: Our refund", false), ("- not-equals: nope", true),
    ("- contains: 30 days", true), ("- contains: 60 days", false), ("- not-contains: As an AI", true),
    ("- not-contains: refund", false), ("- icontains: REFUND WINDOW", true), ("- icontains: 90 DAYS", false),
    ("- contains-any: [60 days, 30 days]", true), ("- contains-any: [a week, two weeks]", false),
    ("- contains-all: [30 days, support@]", true), ("- contains-all: [30 days, receipt]", false),
    ("- not-contains-all: [30 days, receipt]", true),
    ("- starts-with: Our refund", true), ("- starts-with: Your", false), ("- ends-with: a return.", true),
    ("- ends-with: return", false), ("- not-ends-with: return", true),
    ("- regex: '\\b30\\s+days\\b'", true), ("- regex: '^\\d+ days'", false),
    ("- regex: {pattern: 'OUR REFUND', flags: i}", true), ("- not-regex: '(?i)sorry'", true),
    ("- length: {min: 10, max: 200}", true), ("- length: {max: 20}", false), ("- length: {min: 88}", true),
    ("- length: {min: 89}", false),
    ("- is-json: true", false), ("- not-is-json: true", true),
    ("- max-latency-ms: 250", true), ("- max-latency-ms: 249", false),
    // The kinds promptfoo configs need (README "Coming from promptfoo").
    ("- icontains-any: [SIXTY DAYS, 30 DAYS]", true), ("- icontains-any: [A WEEK]", false),
    ("- icontains-all: [REFUND, SUPPORT@]", true), ("- icontains-all: [REFUND, RECEIPT]", false),
    ("- not-icontains-all: [REFUND, RECEIPT]", true),
    (
      "- levenshtein: {value: \"Our refund window is 30 days from delivery. Contact support@acme.test to start a returns.\", max: 1}",
      true
    ),
    ("- levenshtein: {value: Our refund window, max: 5}", false),
    ("- word-count: 14", true), ("- word-count: {min: 15}", false), ("- word-count: {min: 10, max: 20}", true),
    ("- contains-json: true", false), ("- not-contains-json: true", true),
    ("- {contains: 30 days, transform: [trim], metric: policy}", true),
  ])
  func textKinds(yaml: String, passes: Bool) throws {
    let findings = try evaluate(yaml, on: text)
    #expect(findings.count == 1)
    #expect(findings[0].passed == passes, "\(findings[0].description)")
  }

  @Test func containsJSONAndTheJSONPathTransformReadEmbeddedJSON() throws {
    let prose = Completion(
      content: "Sure! Here it is: {\"answer\": 42, \"unit\": \"m\"} — anything else?", latencyMS: 1)
    let findings = try evaluate(
      """
      - contains-json: true
      - contains-json: {type: object, required: [answer]}
      - contains-json: {type: object, required: [missing]}
      - {equals: "42", transform: [extract-json, {json-path: $.answer}]}
      - {equals: "x", transform: {json-path: $.answer}}
      """, on: prose)
    #expect(findings.map(\.passed) == [true, true, false, true, false], "\(findings.map(\.description))")
    #expect(findings[4].message.contains("json-path $.answer: the text is not JSON"), "\(findings[4].message)")
    #expect(findings[1].metric == nil)
  }

  /// (assertion YAML, passes?) on the rich response.
  @Test(arguments: [
    ("- is-json: true", true),
    ("- is-json: {type: object, required: [answer], properties: {answer: {type: integer, minimum: 0}}}", true),
    ("- is-json: {type: object, properties: {answer: {type: string}}}", false),
    ("- is-json: {type: object, additionalProperties: false, properties: {answer: {}}}", false),
    ("- json-path: $.answer", true), ("- json-path: $.missing", false),
    ("- json-path: {path: $.answer, equals: 42.0}", true), ("- json-path: {path: $.answer, equals: '42'}", false),
    ("- json-path: {path: '$.tags[*]', equals: [a, b]}", true), ("- json-path: {path: '$.tags[*]', contains: b}", true),
    ("- json-path: {path: '$.tags[*]', matches: '^[ab]$'}", true),
    ("- json-path: {path: '$.tags[*]', matches: '^a$'}", false),
    ("- json-path: {path: '$.tags[*]', count: 2}", true), ("- json-path: {path: $.nope, exists: false}", true),
    ("- not-json-path: $.nope", true),
    ("- json-path: {path: '$.choices[0].message.tool_calls[0].id', equals: c1}\n  on: response", true),
    ("- equals: {id: gen-1}\n  on: response", false),
    ("- contains: '6*7'\n  on: reasoning", true), ("- contains: '\"provider\":\"Groq\"'\n  on: response", true),
    ("- finish-reason: tool_calls", true), ("- finish-reason: stop", false),
    ("- tool-call: {name: get_weather}", true), ("- tool-call: {name: get_time}", false),
    ("- tool-call: {name: get_weather, arguments: [$.city, {path: $.days, equals: 3}]}", true),
    ("- tool-call: {name: get_weather, arguments: [{path: $.city, equals: London}]}", false),
    ("- not-tool-call: {name: get_time}", true),
    ("- max-tokens: {prompt: 120, completion: 30, total: 150}", true), ("- max-tokens: {completion: 29}", false),
    ("- max-cost: 0.001", true), ("- max-cost: 0.0001", false),
  ])
  func structuredKinds(yaml: String, passes: Bool) throws {
    let findings = try evaluate(yaml, on: rich)
    #expect(findings[0].passed == passes, "\(findings[0].description)")
  }

  @Test func everyAssertionIsEvaluatedNotOnlyToTheFirstFailure() throws {
    let findings = try evaluate(
      """
          - contains: nope
          - contains: refund
          - regex: 'x{5}'
          - name: polite
            not-contains: sorry
      """, on: text)
    #expect(findings.map(\.passed) == [false, true, false, true])
    #expect(findings.map(\.label) == ["assert[0]", "assert[1]", "assert[2]", "assert[3] (polite)"])
  }

  // MARK: Messages, pinned

  @Test func failureMessagesSayWhatWasExpectedAndSeen() throws {
    let f = try evaluate(
      """
          - contains: 60 days
          - not-contains: support@
          - name: window
            regex: '\\b90 days'
          - equals: Our refund window is 60 days
          - contains-all: [30 days, receipt, invoice]
          - length: {max: 20}
          - starts-with: Hello
          - max-latency-ms: 100
      """, on: text
    ).map(\.description)
    #expect(
      f == [
        "assert[0] contains: expected the output to contain \"60 days\", but it does not; it starts \"Our refund window is 30 days from delivery. Contact support@acme.test to start a…\"",
        "assert[1] not-contains: expected the output not to contain \"support@\", but it does at character 52: \"…indow is 30 days from delivery. Contact support@acme.test to start a return.\"",
        "assert[2] (window) regex: expected the output to match /\\b90 days/, but nothing matches; it starts \"Our refund window is 30 days from delivery. Contact support@acme.test to start a…\"",
        "assert[3] equals: expected the output to equal \"Our refund window is 60 days\", but they differ at character 21: found \"Our refund window is 30 days from delivery. Contact support@ac…\" (88 characters, expected 28)",
        "assert[4] contains-all: expected the output to contain all of [\"30 days\", \"receipt\", \"invoice\"], but it lacks [\"receipt\", \"invoice\"]; it starts \"Our refund window is 30 days from delivery. Contact support@acme.test to start a…\"",
        "assert[5] length: expected the output to be at most 20 characters long, but it has 88",
        "assert[6] starts-with: expected the output to start with \"Hello\", but it starts \"Our refund window is 30 days from delivery. Contact support@acme.test to start a…\"",
        "assert[7] max-latency-ms: expected the response to take at most 100 ms, but it took 250 ms",
      ])
  }

  @Test func structuredFailureMessages() throws {
    let f = try evaluate(
      """
          - json-path: {path: $.answer, equals: 41}
          - is-json: {type: object, required: [answer, reason], properties: {answer: {type: string}}}
          - tool-call: {name: get_weather, arguments: [{path: $.city, equals: London}]}
          - finish-reason: stop
          - max-tokens: {prompt: 100, total: 140}
          - max-cost: 0.0001
      """, on: rich
    ).map(\.description)
    #expect(
      f == [
        "assert[0] json-path: expected the output to have $.answer equal to 41, but it selects 1 node: [42]",
        "assert[1] is-json: expected the output to be JSON that validates against the schema, but it does not: $: required property 'reason' is missing; $['answer']: expected string, found integer 42",
        "assert[2] tool-call: expected the response to call get_weather with arguments where $.city equal to \"London\", but it called get_weather({\"city\": \"Paris\", \"days\": 3}); not have $.city equal to \"London\": it selects 1 node: [\"Paris\"]",
        "assert[3] finish-reason: expected the response to finish with \"stop\", but it finished with \"tool_calls\"",
        "assert[4] max-tokens: expected the response to use at most 100 prompt, 140 total tokens, but it used prompt 120, total 150 (usage is prompt 120, completion 30, total 150)",
        "assert[5] max-cost: expected the response to cost at most $0.0001, but it cost $0.00042",
      ])
  }

  @Test func invalidJSONFailsWithTheParsersPosition() throws {
    let c = Completion(content: "{\"a\": 1,}")
    let f = try evaluate("- json-path: $.a\n- not-json-path: $.b\n- is-json: true\n- not-is-json: true\n", on: c)
    #expect(f.map(\.passed) == [false, false, false, true])
    #expect(
      f[0].message
        == "expected the output to have a node at $.a, but it is not valid JSON (line 1, column 9: unexpected '}', expected a member name in double quotes); it starts \"{\\\"a\\\": 1,}\""
    )
    #expect(
      f[1].message.hasPrefix(
        "expected the output not to have a node at $.b, but it is not valid JSON (line 1, column 9"))
  }

  @Test func missingUsageFailsClearlyEvenWhenNegated() throws {
    let f = try evaluate("- max-tokens: {total: 10}\n- not-max-tokens: {total: 10}\n- max-cost: 1\n", on: text)
    #expect(f.map(\.passed) == [false, false, false])
    #expect(
      f[0].message == "expected the response to use at most 10 total tokens, but the response has no usage to check")
    #expect(f[2].message == "expected the response to cost at most $1.0, but the response reports no usage.cost")
  }

  @Test func containsIsExactButIcontainsFoldsCaseAcrossUnicode() throws {
    let c = Completion(content: "Die STRASSE ist lang. Cafe\u{301}")
    let f = try evaluate("- icontains: straße\n- contains: Café\n- contains: Cafe\n", on: c)
    // icontains folds ß/SS; contains compares code points, so a precomposed é does not match e + U+0301.
    #expect(f.map(\.passed) == [true, false, true])
  }

  @Test func lengthCountsCodePoints() throws {
    let c = Completion(content: "👍🏽é")  // 2 emoji scalars + 1 precomposed = 3 code points, 2 Characters
    #expect(try evaluate("- length: {min: 3, max: 3}\n", on: c)[0].passed)
  }

  @Test func runawayRegexStopsWithAnError() throws {
    var evaluator = AssertionEvaluator()
    evaluator.regexDeadline = .milliseconds(100)
    let c = Completion(content: String(repeating: "a", count: 5_000) + "!")
    let a = try assertions("- regex: '^(a+)+$'\n- not-regex: '^(a+)+$'\n")
    let f = evaluator.evaluate(a, on: c)
    #expect(f.map(\.passed) == [false, false])
    #expect(
      f[0].message.contains(
        "the regex /^(a+)+$/ ran longer than 0.1 s on a text of 5001 characters and was stopped; simplify it"))
  }

  @Test func templatedAssertionValuesUseTheCaseVars() throws {
    let t = try loadTest(
      """
      tests:
        - name: t
          prompt: x
          matrix: {days: ["30", "60"]}
          assert: [{contains: "{{days}} days"}]
      """)
    let e = AssertionEvaluator()
    #expect(e.evaluate(t.variants[0].assertions, on: text).map(\.passed) == [true])
    #expect(e.evaluate(t.variants[1].assertions, on: text).map(\.passed) == [false])
  }
}

/// `length` counts code points on the UTF-8 bytes, a word at a time: the same as the scalars.
@Test(arguments: ["", "a", "héllo wörld", "日本語のテキスト", "🙂🙃 emoji 👍🏽", "ascii only, longer than eight bytes"])
func codePointsAreTheUnicodeScalars(_ base: String) {
  // Every length from 0 to 3× the base, so each tail and alignment is counted.
  let text = String(repeating: base, count: 3)
  for end in text.unicodeScalars.indices + [text.endIndex] {
    let prefix = String(text.unicodeScalars[..<end])
    #expect(AssertionEvaluator.codePoints(prefix) == prefix.unicodeScalars.count)
  }
}

@Suite struct CompletionDecodingTests {
  @Test func decodesTheFirstChoice() {
    let c = Completion(response: sampleResponse, latencyMS: 5)
    #expect(c.content == "{\"answer\": 42, \"tags\": [\"a\", \"b\"]}")
    #expect(c.reasoning == "Think: 6*7.")
    #expect(c.toolCalls == [.init(id: "c1", name: "get_weather", arguments: "{\"city\": \"Paris\", \"days\": 3}")])
    #expect(c.finishReason == "tool_calls")
    #expect(c.usage == .init(promptTokens: 120, completionTokens: 30, totalTokens: 150, cost: 0.00042))
    #expect(c.model == "qwen/qwen3-32b")
    #expect(c.provider == "Groq")
  }

  @Test func reasoningContentAndNullContent() {
    let c = Completion(
      response: ["choices": [["message": ["role": "assistant", "content": .null, "reasoning_content": "hmm"]]]],
      latencyMS: 0)
    #expect(c.content == "")
    #expect(c.reasoning == "hmm")
    #expect(c.usage == nil)
  }
}

/// Every kind, negated: the plain form passes, so the `not-` form fails, with its message pinned.
@Suite struct NegatedAssertionTests {
  static let text = Completion(content: refundOutput, latencyMS: 250)
  static let rich = Completion(response: sampleResponse, latencyMS: 900)

  @Test(arguments: [
    (
      "equals: \"\(refundOutput)\"", false,
      "expected the output not to equal \"Our refund window is 30 days from delivery. Contact support@acme.test to start a…\", but it does"
    ),
    (
      "contains: window", false,
      "expected the output not to contain \"window\", but it does at character 11: \"Our refund window is 30 days from delivery. Contact suppo…\""
    ),
    (
      "icontains: REFUND", false,
      "expected the output not to contain \"REFUND\" (ignoring case), but it does at character 4: \"Our refund window is 30 days from delivery. Contac…\""
    ),
    (
      "contains-any: [week, days]", false,
      "expected the output not to contain any of [\"week\", \"days\"], but it contains \"days\" at character 24: \"Our refund window is 30 days from delivery. Contact support@acme.tes…\""
    ),
    (
      "contains-all: [refund, days]", false,
      "expected the output not to contain all of [\"refund\", \"days\"], but it contains every one of them"
    ),
    ("starts-with: Our", false, "expected the output not to start with \"Our\", but it does"),
    ("ends-with: return.", false, "expected the output not to end with \"return.\", but it does"),
    (
      "regex: '\\d+ days'", false,
      "expected the output not to match /\\d+ days/, but it matches at character 21: \"Our refund window is 30 days from delivery. Contact support@acme.tes…\""
    ),
    ("length: {max: 100}", false, "expected the output not to be at most 100 characters long, but it has 88"),
    ("max-latency-ms: 300", false, "expected the response not to take at most 300 ms, but it took 250 ms"),
    ("is-json: true", true, "expected the output not to be valid JSON, but it is"),
    (
      "json-path: {path: $.answer, count: 1}", true,
      "expected the output not to have 1 node at $.answer, but it selects 1 node: [42]"
    ),
    ("finish-reason: tool_calls", true, "expected the response not to finish with \"tool_calls\", but it did"),
    (
      "tool-call: {name: get_weather}", true,
      "expected the response not to call get_weather, but it called get_weather({\"city\": \"Paris\", \"days\": 3})"
    ),
    (
      "max-tokens: {total: 200}", true,
      "expected the response not to use at most 200 total tokens, but usage is prompt 120, completion 30, total 150"
    ),
    ("max-cost: 0.01", true, "expected the response not to cost at most $0.01, but it cost $0.00042"),
  ])
  func negatedKindFails(assertion: String, onRich: Bool, message: String) throws {
    let completion = onRich ? Self.rich : Self.text
    let plain = try evaluate("- \(assertion)", on: completion)[0]
    #expect(plain.passed, "\(plain.description)")
    let negated = try evaluate("- not-\(assertion)", on: completion)[0]
    #expect(!negated.passed)
    #expect(negated.message == message)
  }
}
