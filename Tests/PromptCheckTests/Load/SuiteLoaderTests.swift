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

@Suite struct SuiteLoaderTests {
  static let full = """
    description: Refund answers of the support bot
    provider: openrouter
    model: qwen/qwen3-32b
    defaults:
      system: You are a terse support agent.
      params: { temperature: 0, seed: 42, max_tokens: 256 }
      vars: { company: Acme }
      tags: [default-tag]
      assert:
        - not-contains: "As an AI"
    tests:
      - name: Refund window is stated!
        description: the 30-day window
        tags: [refunds]
        vars: { product: Acme Pro }
        messages:
          - user: "What is the refund window for {{product}} at {{ company }}?"
          - role: assistant
            content: "Let me check."
          - {role: user, content: [{type: text, text: "Quickly, {{product}}."}]}
        params:
          seed: 7
          stop: ["\\n\\n"]
          logit_bias: { "1734": -100, 42: 5 }
          custom_field: {nested: "{{company}}"}
        assert:
          - contains: "30 days"
          - regex: '\\b30\\s+days\\b'
          - {type: icontains, value: "REFUND", name: promptfoo form}
        golden: true
        only: true
        model: other/model
    """

  @Test func fullExampleLoadsWithEveryKey() throws {
    let (suite, errors) = loadSuite(Self.full)
    #expect(errors.isEmpty)
    let s = try #require(suite)
    #expect(s.description == "Refund answers of the support bot")
    let t = try #require(s.tests.first)
    #expect(t.name == "Refund window is stated!")
    #expect(t.slug == "refund-window-is-stated")
    #expect(t.description == "the 30-day window")
    #expect(t.tags == ["refunds"])  // lists other than assert are replaced
    #expect(t.variants[0].model == "other/model")
    #expect(t.variants[0].provider.name == "openrouter")
    #expect(t.only)
    #expect(t.golden?.subject == .output)
    #expect(t.location.line == 12)
    let v = try #require(t.variants.first)
    #expect(
      v.messages == [
        ["role": "system", "content": "You are a terse support agent."],
        ["role": "user", "content": "What is the refund window for Acme Pro at Acme?"],
        ["role": "assistant", "content": "Let me check."],
        ["role": "user", "content": [["type": "text", "text": "Quickly, Acme Pro."]]],
      ])
    // Defaults' params first, the test's value winning in place, then the test's own keys.
    #expect(v.params.keys == ["temperature", "seed", "max_tokens", "stop", "logit_bias", "custom_field"])
    #expect(v.params["seed"] == .int(7))
    #expect(v.params["custom_field"] == ["nested": "Acme"])
    #expect(v.assertions.map(\.fullKind) == ["not-contains", "contains", "regex", "icontains"])
    #expect(v.assertions.map(\.index) == [0, 1, 2, 3])
    #expect(v.assertions[3].name == "promptfoo form")
    #expect(v.assertions[0].location.line == 10)  // from defaults
  }

  @Test func promptAndSystemBecomeMessages() throws {
    let t = try loadTest(
      """
      system: Suite-level system.
      tests:
        - name: a
          prompt: Hello
      """)
    #expect(
      t.variants[0].messages == [
        ["role": "system", "content": "Suite-level system."], ["role": "user", "content": "Hello"],
      ])
  }

  /// A plan of many tests holds each one's prompt, not a copy of the suite's defaults per test:
  /// the variants that answer alike share one box; a test that changes anything has its own.
  @Test func testsThatTakeOnlyTheDefaultsShareOneVariantBox() throws {
    let (loaded, errors) = loadSuite(
      """
      system: Be brief.
      defaults:
        params: {temperature: 0}
        assert: [{contains: x}]
      tests:
        - {name: a, prompt: one}
        - {name: b, prompt: two}
        - {name: c, prompt: three, params: {seed: 1}}
        - {name: d, prompt: four, threshold: 0.5}
        - {name: e, prompt: five}
      """)
    #expect(errors.isEmpty)
    let v = try #require(loaded).tests.map { $0.variants[0] }
    #expect(v[0].box === v[1].box)
    #expect(v[1].box !== v[2].box && v[2].box !== v[3].box && v[3].box !== v[4].box)
    #expect(v.map { $0.messages.last?["content"] } == ["one", "two", "three", "four", "five"])
    #expect(v[1].messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "two"]])
    #expect(v[2].params["seed"] == .int(1) && v[1].params["seed"] == nil)
    #expect(v[3].threshold == 0.5 && v[4].threshold == nil)
    #expect(v.allSatisfy { $0.assertions.map(\.fullKind) == ["contains"] })
    // Messages set on a variant replace its prompt; the box is not touched.
    var changed = v[1]
    changed.messages = [["role": "user", "content": "other"]]
    #expect(changed.messages == [["role": "user", "content": "other"]])
    #expect(v[1].messages.count == 2 && changed.box === v[1].box)
  }

  /// Sharing is exact: params equal as JSON but written differently (`1` and `1.0`, another
  /// order) or texts that differ only in their code points keep boxes of their own, and each test
  /// sends what it says.
  @Test func variantsThatOnlyLookAlikeDoNotShare() throws {
    let (loaded, errors) = loadSuite(
      """
      tests:
        - {name: a, prompt: x, params: {temperature: 1, seed: 2}}
        - {name: b, prompt: x, params: {temperature: 1.0, seed: 2}}
        - {name: c, prompt: x, params: {seed: 2, temperature: 1.0}}
        - {name: d, prompt: x, system: "caf\\u00e9"}
        - {name: e, prompt: x, system: "cafe\\u0301"}
      """)
    #expect(errors.isEmpty)
    let v = try #require(loaded).tests.map { $0.variants[0] }
    #expect(v[0].box !== v[1].box && v[1].box !== v[2].box && v[3].box !== v[4].box)
    #expect(
      v.prefix(3).map { JSON.object($0.params).serialized() } == [
        "{\"temperature\":1,\"seed\":2}", "{\"temperature\":1.0,\"seed\":2}", "{\"seed\":2,\"temperature\":1.0}",
      ])
    #expect(v[3].messages[0]["content"]?.stringValue?.unicodeScalars.count == 4)
    #expect(v[4].messages[0]["content"]?.stringValue?.unicodeScalars.count == 5)
  }

  /// The fields most tests leave out are held apart, and read and set like the others; a change
  /// gives the test a box of its own, and the value it came from keeps what it had.
  @Test func rarelyGivenFieldsReadAndSetLikeTheOthers() throws {
    let t = try loadTest("tests:\n  - {name: a, prompt: x, repeat: 3, min_pass_rate: 0.5}\n")
    #expect(t.repeatCount == 3 && t.minPassRate == 0.5 && t.skip == nil && t.description == nil)
    var changed = t
    changed.skip = "later"
    changed.repeatCount = nil
    #expect(changed.skip == "later" && changed.repeatCount == nil && changed.minPassRate == 0.5)
    #expect(t.skip == nil && t.repeatCount == 3)
    #expect(changed.box !== t.box && changed.name == "a")
  }

  @Test func shorthandAssistantMayCarryToolCalls() throws {
    let t = try loadTest(
      """
      tests:
        - name: a
          messages:
            - user: weather?
            - assistant: null
              tool_calls: [{id: c1, type: function, function: {name: get_weather, arguments: "{}"}}]
            - {role: tool, tool_call_id: c1, content: "sunny"}
            - developer: be brief
      """)
    let m = t.variants[0].messages
    #expect(m.count == 4)
    #expect(m[1]["tool_calls"]?.arrayValue?.first?["id"] == "c1")
    #expect(m[1]["content"] == .null)
    #expect(m[2] == ["role": "tool", "content": "sunny", "tool_call_id": "c1"])
    #expect(m[3] == ["role": "developer", "content": "be brief"])
  }

  @Test func matrixExpandsInOrderWithIdsAndFileStems() throws {
    let t = try loadTest(
      """
      tests:
        - name: Greets
          matrix: { lang: [en, fr], tone: [formal, "very casual"] }
          prompt: "Say hi in {{lang}}, {{tone}}"
      """)
    #expect(t.variants.count == 4)
    let ids = t.variants.map { CaseID.id(suite: "s", slug: t.slug, matrix: $0.matrix, repeatIndex: nil) }
    #expect(
      ids == [
        "s/greets[lang=en,tone=formal]", "s/greets[lang=en,tone=very casual]",
        "s/greets[lang=fr,tone=formal]", "s/greets[lang=fr,tone=very casual]",
      ])
    #expect(
      CaseID.fileStem(slug: t.slug, matrix: t.variants[1].matrix, repeatIndex: 2)
        == "greets--lang-en--tone-very-casual--r2")
    #expect(t.variants[3].messages[0]["content"] == "Say hi in fr, very casual")
  }

  @Test func repeatAndPassRate() throws {
    let t = try loadTest(
      """
      tests:
        - name: flaky
          prompt: x
          repeat: 5
          min_pass_rate: 0.8
      """)
    #expect(t.repeatCount == 5)
    #expect(t.minPassRate == 0.8)
    #expect(CaseID.id(suite: "s", slug: "flaky", matrix: [], repeatIndex: 3) == "s/flaky#3")
  }

  @Test func skipAndFileIncludes() throws {
    let t = try loadTest(
      """
      tests:
        - name: a
          skip: waiting for the new model
          prompt: "Summarise: {{file:data/doc.txt}}"
      """, files: ["data/doc.txt": "The {{x}} text."])
    #expect(t.skip == "waiting for the new model")
    // Included text is inserted as is, never re-templated.
    #expect(t.variants[0].messages[0]["content"] == "Summarise: The {{x}} text.")
  }

  @Test func bracesThatAreNotVariablesStayAsWritten() throws {
    let t = try loadTest(
      """
      tests:
        - name: a
          prompt: 'Reply with {{"ok": true}}'
      """)
    #expect(t.variants[0].messages[0]["content"] == "Reply with {{\"ok\": true}}")
  }

  @Test func goldenOptions() throws {
    let t = try loadTest(
      """
      tests:
        - name: a
          prompt: x
          golden: {on: response, normalize: [trim, collapse-whitespace, json, {replace: '\\d+', with: N}]}
      """)
    #expect(t.golden?.subject == .response)
    #expect(t.golden?.normalizers.count == 4)
  }

  @Test func inlineAndConfiguredProviders() throws {
    var config = Config()
    config.providers.append(
      Provider(name: "local", baseURL: "http://127.0.0.1:8088/v1", apiKeyEnv: nil, model: "smollm2"))
    let t = try loadTest(
      """
      provider: {base_url: "http://localhost:1234/v1", model: m1}
      tests:
        - name: a
          prompt: x
        - name: b
          provider: local
          prompt: x
      """, config: config)
    #expect(t.variants[0].provider.baseURL == "http://localhost:1234/v1")
    #expect(t.variants[0].model == "m1")
    let (suite, _) = loadSuite(
      """
      provider: {base_url: "http://localhost:1234/v1", model: m1}
      tests:
        - {name: b, provider: local, prompt: x}
      """, config: config)
    // A test that names its own provider takes that provider's model.
    #expect(suite?.tests[0].variants[0].model == "smollm2")
  }

  @Test func anchorsAndMergeKeysInSuites() throws {
    let t = try loadTest(
      """
      x-common: &common
        params: {temperature: 0}
      tests:
        - <<: *common
          name: a
          prompt: x
      """.replacingOccurrences(
        of: "x-common: &common\n  params: {temperature: 0}\n", with: "defaults: &common\n  params: {temperature: 0}\n"))
    #expect(t.variants[0].params["temperature"] == .int(0))
  }

  // MARK: Problems, each with its exact message and place

  @Test(arguments: [
    (
      "tests:\n  - name: a\n    prompt: x\n    asert: []\n",
      "prompts/s.yaml:4:5: error: unknown key 'asert' in tests[0]; did you mean 'assert'?"
    ),
    (
      "tests:\n  - name: a\n    promt: x\n",
      "prompts/s.yaml:3:5: error: unknown key 'promt' in tests[0]; did you mean 'prompt'?"
    ),
    ("test:\n  - name: a\n", "prompts/s.yaml:1:1: error: unknown key 'test' in the suite; did you mean 'tests'?"),
    (
      "defaults: {name: x}\ntests: [{name: a, prompt: x}]\n",
      "prompts/s.yaml:1:12: error: 'name' cannot be set in defaults; set it on each test"
    ),
    (
      "defaults: {parms: {}}\ntests: [{name: a, prompt: x}]\n",
      "prompts/s.yaml:1:12: error: unknown key 'parms' in defaults; did you mean 'params'?"
    ),
    (
      "tests:\n  - name: a\n    messages: [{usr: hi}]\n",
      "prompts/s.yaml:3:17: error: unknown key 'usr' in messages[0]; did you mean 'user'?"
    ),
    (
      "tests:\n  - name: a\n    messages: [{role: usr, content: hi}]\n",
      "prompts/s.yaml:3:23: error: messages[0].role must be one of system, user, assistant, developer, tool, found 'usr'; did you mean 'user'?"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{contians: x}]\n",
      "prompts/s.yaml:4:15: error: unknown assertion kind 'contians'; did you mean 'contains'?"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{not-regx: x}]\n",
      "prompts/s.yaml:4:15: error: unknown assertion kind 'not-regx'; did you mean 'not-regex'?"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{type: contains, valu: x}]\n",
      "prompts/s.yaml:4:31: error: unknown key 'valu' in assert[0]; did you mean 'value'?"
    ),
    (
      "provider: opnrouter\ntests: [{name: a, prompt: x}]\n",
      "prompts/s.yaml:1:11: error: unknown provider 'opnrouter'; did you mean 'openrouter'?"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    params: {temperature: 0}\n    zzzzzzzz: 1\n",
      "prompts/s.yaml:5:5: error: unknown key 'zzzzzzzz' in tests[0]; expected one of: name, description, tags, vars, matrix, dataset, messages, prompt, prompts, system, params, assert, golden, repeat, min_pass_rate, skip, only, model, provider, providers, models, threshold, transform, mocks, mcp, loop, turns, on_turn_failure, simulate, target"
    ),
  ])
  func unknownKeysNameTheClosestValidKey(yaml: String, expected: String) {
    #expect(loadSuite(yaml).errors == [expected])
  }

  @Test(arguments: [
    (
      "tests:\n  - name: a\n    prompt: x\n    repeat: many\n",
      "prompts/s.yaml:4:13: error: repeat must be an integer, found the string 'many'"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    only: 1\n",
      "prompts/s.yaml:4:11: error: only must be true or false, found an integer"
    ),
    ("tests:\n  - name: a\n    prompt: [x]\n", "prompts/s.yaml:3:13: error: prompt must be a string, found a list"),
    ("tests: {name: a}\n", "prompts/s.yaml:1:8: error: tests must be a list, found a map"),
    (
      "tests:\n  - name: a\n    prompt: x\n    vars: [a]\n",
      "prompts/s.yaml:4:11: error: vars must be a map, found a list"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    matrix: {l: []}\n",
      "prompts/s.yaml:4:17: error: matrix.l needs at least one value"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    min_pass_rate: 0.5\n",
      "prompts/s.yaml:4:20: error: min_pass_rate applies to repeated tests; add 'repeat: N'"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{length: {min: 5, max: 2}}]\n",
      "prompts/s.yaml:4:23: error: assert[0] (length): min (5) is greater than max (2)"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{max-tokens: 5}]\n",
      "prompts/s.yaml:4:27: error: assert[0] (max-tokens) must be a map, found an integer"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{finish-reason: stop, on: reasoning}]\n",
      "prompts/s.yaml:4:40: error: 'on' does not apply to finish-reason, which reads the response's metadata"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{contains: x, on: body}]\n",
      "prompts/s.yaml:4:32: error: assert[0].on must be output, reasoning, response, trajectory, transcript, step[N] or turn[N] (optionally step[N].response), found 'body'"
    ),
    (
      "tests:\n  - name: a\n    prompt: x\n    assert: [{contains: x, regex: y}]\n",
      "prompts/s.yaml:4:28: error: an assertion has exactly one kind; found 'contains' and 'regex'"
    ),
  ])
  func wrongTypesSayWhatWasExpectedAndFound(yaml: String, expected: String) {
    #expect(loadSuite(yaml).errors == [expected])
  }

  @Test(arguments: [
    ("temperature: 2.5", "params.temperature must be between 0 and 2, found 2.5"),
    ("temperature: hot", "params.temperature must be a number, found the string 'hot'"),
    ("top_p: 1.1", "params.top_p must be between 0 and 1, found 1.1"),
    ("min_p: -0.1", "params.min_p must be between 0 and 1, found -0.1"),
    ("top_k: -1", "params.top_k must be at least 0, found -1"),
    ("seed: 1.5", "params.seed must be an integer, found a number"),
    ("max_tokens: 0", "params.max_tokens must be at least 1, found 0"),
    ("max_completion_tokens: 0", "params.max_completion_tokens must be at least 1, found 0"),
    ("stop: [a, b, c, d, e]", "params.stop must hold 1 to 4 strings, found 5"),
    ("stop: []", "params.stop must hold 1 to 4 strings, found 0"),
    ("stop: {a: b}", "params.stop must be a string or a list of 1 to 4 strings, found a map"),
    ("logit_bias: {abc: 1}", "params.logit_bias: 'abc' is not a token id (digits only)"),
    ("logit_bias: {'12': 101}", "params.logit_bias.12 must be between -100 and 100, found 101"),
    ("frequency_penalty: 3", "params.frequency_penalty must be between -2 and 2, found 3"),
    ("presence_penalty: -2.5", "params.presence_penalty must be between -2 and 2, found -2.5"),
    ("repetition_penalty: 0", "params.repetition_penalty must be greater than 0 and at most 2, found 0"),
    (
      "response_format: {type: json}",
      "params.response_format.type must be text, json_object or json_schema, found 'json'"
    ),
    (
      "response_format: json_object", "params.response_format must be a map with a type, found the string 'json_object'"
    ),
    (
      "reasoning: {effort: extreme}",
      "params.reasoning.effort must be xhigh, high, medium, low, minimal or none, found 'extreme'"
    ),
    ("reasoning: {efort: low}", "unknown key 'efort' in params.reasoning; did you mean 'effort'?"),
    ("stream: yes", "params.stream must be true or false, found the string 'yes'"),
    ("model: x", "'model' cannot be set in params; it comes from the suite (use the test's 'model' key)"),
  ])
  func everyParamIsValidated(param: String, message: String) {
    let yaml = "tests:\n  - name: a\n    prompt: x\n    params: {\(param)}\n"
    let errors = loadSuite(yaml).errors
    #expect(errors.count == 1)
    #expect(errors.first?.hasSuffix("error: " + message) == true, "\(errors)")
    #expect(errors.first?.hasPrefix("prompts/s.yaml:4:") == true)
  }

  @Test func validParamsPassThroughInOrder() throws {
    let t = try loadTest(
      """
      tests:
        - name: a
          prompt: x
          params:
            top_k: 40
            temperature: 0.7
            repetition_penalty: 1.1
            stop: "END"
            response_format: {type: json_schema, json_schema: {name: x, schema: {type: object}}}
            tools: [{type: function, function: {name: f, parameters: {type: object}}}]
            tool_choice: auto
            reasoning: {effort: low, exclude: true}
            stream: true
            brand_new_param: [1, 2]
      """)
    #expect(
      t.variants[0].params.keys == [
        "top_k", "temperature", "repetition_penalty", "stop", "response_format", "tools", "tool_choice", "reasoning",
        "stream", "brand_new_param",
      ])
    #expect(t.variants[0].params["brand_new_param"] == [1, 2])
  }

  @Test func templateErrorsNameTheVariable() {
    let errors = loadSuite(
      """
      defaults: {vars: {company: Acme}}
      tests:
        - name: a
          vars: {product: Pro}
          prompt: "{{prodct}} at {{company}} {{nothing}}"
      """
    ).errors
    #expect(
      errors == [
        "prompts/s.yaml:5:13: error: unknown variable 'prodct'; did you mean 'product'?",
        "prompts/s.yaml:5:13: error: unknown variable 'nothing' (known: company, product)",
      ])
  }

  @Test func templateVariablesInAssertionsAndParams() {
    let errors = loadSuite(
      """
      tests:
        - name: a
          prompt: x
          params: {stop: "{{ending}}"}
          assert: [{contains: "{{expected}}"}]
      """
    ).errors
    #expect(
      errors == [
        "prompts/s.yaml:4:20: error: unknown variable 'ending'; this test defines no vars",
        "prompts/s.yaml:5:25: error: unknown variable 'expected'; this test defines no vars",
      ])
  }

  @Test func missingIncludeIsAnError() {
    #expect(
      loadSuite("tests:\n  - name: a\n    prompt: \"{{file:nope.txt}}\"\n").errors == [
        "prompts/s.yaml:3:13: error: cannot include file 'nope.txt' (paths are relative to the suite file's folder)"
      ])
  }

  @Test func messagesAndPromptAreExclusive() {
    #expect(
      loadSuite("tests:\n  - name: a\n    prompt: x\n    messages: [{user: y}]\n").errors == [
        "prompts/s.yaml:3:13: error: give either 'messages' or 'prompt', not both"
      ])
    #expect(
      loadSuite("tests:\n  - name: a\n").errors == [
        "prompts/s.yaml:2:11: error: test 'a' needs 'messages' or 'prompt'"
      ])
  }

  @Test func duplicateIdsAreErrors() {
    #expect(
      loadSuite("tests:\n  - {name: Same Name, prompt: x}\n  - {name: same-name!, prompt: y}\n").errors == [
        "prompts/s.yaml:3:5: error: duplicate test id 's/same-name' (first defined at line 2); give the test another name"
      ])
  }

  @Test func badRegexAndJSONPathAreLoadErrors() {
    let errors = loadSuite(
      """
      tests:
        - name: a
          prompt: x
          assert:
            - regex: "(unclosed"
            - json-path: $.a[
            - json-path: {path: "$..x", count: many}
            - regex: {pattern: "a+", flags: "iq"}
            - not-is-json: {type: object, required: [a], formt: x}
      """
    ).errors
    #expect(
      errors == [
        "prompts/s.yaml:5:16: error: assert[0] (regex): invalid regex '(unclosed': a '(' is not closed",
        "prompts/s.yaml:6:24: error: assert[1] (json-path): invalid JSONPath at character 5: expected a selector in '$.a['",
        "prompts/s.yaml:7:42: error: assert[2] (json-path).count must be an integer, found the string 'many'",
        "prompts/s.yaml:8:26: error: assert[3] (regex): unknown regex flag 'q' (flags are i, m, s, x)",
        "prompts/s.yaml:9:52: error: unsupported JSON Schema keyword 'formt' in assert[4] (not-is-json) (supported: type, properties, required, items, enum, const, minimum, maximum, minLength, maxLength, pattern, additionalProperties)",
      ])
  }

  @Test func everyProblemInAFileIsReported() {
    let errors = loadSuite(
      """
      tests:
        - name: a
          prompt: x
          params: {temperature: 9}
        - name: b
          prompt: y
          tags: {a: b}
          asert: []
      """
    ).errors
    #expect(errors.count == 3)
  }

  @Test func missingModelIsReported() {
    var config = Config()
    config.providers = [Provider(name: "p", baseURL: "http://x", apiKeyEnv: nil, model: nil)]
    config.defaultProvider = "p"
    #expect(
      loadSuite("tests:\n  - {name: a, prompt: x}\n", config: config).errors == [
        "prompts/s.yaml:2:5: error: no model for test 'a': set 'model' in the suite or in its provider"
      ])
  }

  @Test func everyAssertionKindParsesInBothForms() throws {
    let t = try loadTest(
      """
      tests:
        - name: a
          prompt: x
          assert:
            - equals: exact
            - equals: {a: [1, 2.5]}
              on: response
            - contains: x
            - icontains: X
            - contains-any: [a, b]
            - contains-all: [a, b]
            - starts-with: a
            - ends-with: b
            - regex: {pattern: '^a.*b$', flags: ims}
            - length: {min: 1, max: 10}
            - is-json: true
            - is-json: {type: object, properties: {a: {type: integer, minimum: 0}}, additionalProperties: false}
            - json-path: $.a
            - json-path: {path: "$.a[*]", equals: [1, 2]}
            - json-path: {path: $.a, contains: 1}
            - json-path: {path: "$.a[*].b", matches: '^x'}
            - json-path: {path: $.a, count: 2}
            - json-path: {path: $.z, exists: false}
            - finish-reason: stop
            - tool-call: {name: get_weather, arguments: [$.city, {path: $.days, equals: 3}]}
            - max-latency-ms: 2000
            - max-tokens: {prompt: 100, completion: 50, total: 150}
            - max-cost: 0.001
            - {type: not-contains, value: y}
            - {type: is-json}
            - not-regex: 'sorry'
              on: reasoning
              name: no apologies
      """)
    let a = t.variants[0].assertions
    #expect(
      a.map(\.fullKind) == [
        "equals", "equals", "contains", "icontains", "contains-any", "contains-all", "starts-with", "ends-with",
        "regex", "length", "is-json", "is-json", "json-path", "json-path", "json-path", "json-path", "json-path",
        "json-path", "finish-reason", "tool-call", "max-latency-ms", "max-tokens", "max-cost", "not-contains",
        "is-json", "not-regex",
      ])
    #expect(a[1].subject == .response)
    #expect(a.last?.subject == .reasoning)
    #expect(a.last?.label == "assert[25] (no apologies)")
    guard case .equals(let v) = a[1].check else { Issue.record("equals"); return }
    #expect(v == ["a": [1, 2.5]])
    guard case .toolCall(let name, let args) = a[19].check else { Issue.record("tool-call"); return }
    #expect(name == "get_weather")
    #expect(args.count == 2)
  }
}

@Suite struct ConfigLoaderTests {
  @Test func builtInProviderWithoutConfig() {
    let c = Config()
    #expect(c.provider(named: "openrouter") == Provider.builtInOpenRouter)
    #expect(Provider.builtInOpenRouter.baseURL == "https://openrouter.ai/api/v1")
    #expect(Provider.builtInOpenRouter.apiKeyEnv == "OPENROUTER_API_KEY")
    #expect(c.defaultProvider == "openrouter")
  }

  @Test func fullConfig() {
    let (c, errors) = ConfigLoader.load(
      text: """
        tests_dir: suites
        expectations_dir: exp
        providers:
          openrouter:
            base_url: https://openrouter.ai/api/v1/
            api_key_env: OPENROUTER_API_KEY
            headers: { HTTP-Referer: https://example.com, X-Title: my-ci }
            model: qwen/qwen3-32b
          local:
            base_url: http://127.0.0.1:8088/v1
            model: smollm2-135m-instruct
        default_provider: local
        jobs: 4
        timeout: 30
        retries: 1
        mode: replay
        junit: out/junit.xml
        min_pass_rate: 0.9
        """, file: "promptcheck.yaml")
    #expect(errors.isEmpty)
    #expect(c.testsDir == "suites")
    #expect(c.expectationsDir == "exp")
    #expect(c.defaultProvider == "local")
    #expect(c.provider(named: "openrouter")?.headers.map(\.name) == ["HTTP-Referer", "X-Title"])
    #expect(c.provider(named: "openrouter")?.baseURL == "https://openrouter.ai/api/v1")
    #expect(c.provider(named: "local")?.apiKeyEnv == nil)
    #expect(c.run.jobs == 4)
    #expect(c.run.timeout == 30)
    #expect(c.run.retries == 1)
    #expect(c.run.mode == .replay)
    #expect(c.run.junit == "out/junit.xml")
    #expect(c.run.minPassRate == 0.9)
  }

  @Test func configProblems() {
    let (_, errors) = ConfigLoader.load(
      text: """
        tests_dr: x
        providers:
          p:
            base_url: ftp://x
            headers: {Authorization: Bearer abc}
            api_key_env: sk-or-v1-abcdef
        default_provider: q
        mode: offline
        jobs: 0
        """, file: "promptcheck.yaml")
    #expect(
      errors.map(\.description) == [
        "promptcheck.yaml:1:1: error: unknown key 'tests_dr' in the config file; did you mean 'tests_dir'?",
        "promptcheck.yaml:4:15: error: providers.p.base_url must start with http:// or https://, found 'ftp://x'",
        "promptcheck.yaml:5:15: error: providers.p.headers.Authorization: secrets never go in a file; name the variable that holds the key in api_key_env",
        "promptcheck.yaml:6:18: error: providers.p.api_key_env names an environment variable (e.g. OPENROUTER_API_KEY), not the key itself",
        "promptcheck.yaml:7:19: error: default_provider 'q' is not a provider; did you mean 'p'?",
        "promptcheck.yaml:8:7: error: mode must be replay, record, auto or live, found 'offline'",
        "promptcheck.yaml:9:7: error: jobs must be at least 1, found 0",
      ])
  }
}

@Suite struct SlugTests {
  @Test(arguments: [
    ("Refund window is stated", "refund-window-is-stated"), ("  --Hello,  World!! ", "hello-world"),
    ("Ünïcode ok", "unicode-ok"), ("Café crème", "cafe-creme"), ("日本語のテスト", "日本語のテスト"),
    ("Ｆｕｌｌ ｗｉｄｔｈ ①", "full-width-1"), ("Straße", "straße"), ("한국어 시험", "한국어-시험"), ("a_b", "a-b"), ("!!!", ""),
  ])
  func slugs(name: String, slug: String) {
    #expect(slugify(name) == slug)
  }

  /// ASCII names take a path of their own; it gives what the Unicode tables give, for every
  /// ASCII character and for random ASCII names.
  @Test func theASCIIPathAgreesWithTheUnicodeOne() {
    for b in UInt8(0)..<0x80 {
      let name = "a" + String(decoding: [b], as: UTF8.self) + "B"
      #expect(slugify(name) == slugifyUnicode(name), "\(b)")
    }
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let name = String(
        decoding: (0..<Int.random(in: 0...12, using: &rng)).map { _ in UInt8.random(in: 0..<0x80, using: &rng) },
        as: UTF8.self)
      #expect(slugify(name) == slugifyUnicode(name), "\(Array(name.utf8))")
    }
  }
}

@Suite struct ReadableProblemTests {
  @Test func aNameOfOnlyNonASCIILettersMakesAnId() throws {
    let t = try loadTest("tests:\n  - name: 日本語\n    prompt: x\n    model: m\n")
    #expect(t.slug == "日本語")
    let (_, errors) = loadSuite("tests:\n  - name: '!!!'\n    prompt: x\n    model: m\n")
    #expect(errors.first?.contains("has no letters or digits") == true)
  }

  @Test func configProblemsAreInFileOrder() {
    let (_, problems) = ConfigLoader.load(
      text: "providers:\n  a: {base_url: x, model: m}\njobs: 0\ntests_dir: 3\nbogus: 1\n", file: "c.yaml")
    #expect(problems.compactMap { $0.location?.line } == [2, 3, 4, 5])
  }
}

/// A long `tests:` list is loaded in parts at once; what comes out is what one pass gives.
@Suite struct LongSuiteTests {
  static func suite(_ count: Int, line: (Int) -> String) -> String {
    "provider: openrouter\nmodel: m\ntests:\n" + (0..<count).map(line).joined(separator: "\n") + "\n"
  }

  @Test func everyTestInOrder() throws {
    let (suite, errors) = loadSuite(Self.suite(3000) { "  - {name: t\($0), prompt: 'q \($0)'}" })
    #expect(errors.isEmpty)
    let tests = try #require(suite).tests
    #expect(tests.map(\.name) == (0..<3000).map { "t\($0)" })
    #expect(tests[2999].variants[0].messages == [["role": "user", "content": "q 2999"]])
  }

  @Test func problemsAndTheOneWarningAsOnePassSaysThem() {
    // Lines: the suite's three, then test k on line k + 4.
    let text = Self.suite(3000) { k in
      switch k {
      case 3: return "  - {name: t3, prompt: q, params: {seed: 1}}"
      case 10: return "  - {name: t10, prompt: q, params: {temperature: 9}}"
      case 1800: return "  - {name: t1800, prompt: q, params: {top_k: 5}}"
      case 2500: return "  - {name: t2500, prompt: q, params: {temperature: -1}}"
      case 2999: return "  - {name: t5, prompt: q}"
      default: return "  - {name: t\(k), prompt: q}"
      }
    }
    let (_, all) = SuiteLoader.load(text: text, file: "prompts/s.yaml", name: "s", config: Config())
    let lines = all.map { "\($0.severity == .error ? "error" : "warning") \($0.location?.line ?? 0)" }
    #expect(lines == ["warning 7", "error 14", "error 2504", "error 3003"])
    #expect(all.last?.message.contains("duplicate test id 's/t5' (first defined at line 9)") == true)
  }
}
