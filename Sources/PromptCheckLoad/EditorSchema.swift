import PromptCheckCore

/// JSON Schemas of suite files and of `promptcheck.yaml`, for editors (the YAML language
/// server completes and checks as the user types). Generated from the loader's own key lists
/// (`SuiteLoader.suiteKeys`, `testKeys`, `ConfigLoader.keys`, `providerKeys`, the assertion
/// kinds, `RunMode`, the settings' limits), so they cannot drift from what is accepted; the
/// tables below only add each key's shape and description, and a test checks none is missing.
package enum EditorSchema {
  typealias Entry = (schema: JSON, description: String)

  static func string(_ d: String) -> Entry { (["type": "string"], d) }
  static func bool(_ d: String) -> Entry { (["type": "boolean"], d) }
  static let stringList: JSON = ["type": "array", "items": ["type": "string"]]
  static func oneOf(_ schemas: [JSON]) -> JSON { ["anyOf": .array(schemas)] }
  static func number(_ range: ClosedRange<Double>) -> JSON {
    var o = JSONObject([("type", "number"), ("minimum", .double(range.lowerBound))])
    if range.upperBound < Double.greatestFiniteMagnitude { o["maximum"] = .double(range.upperBound) }
    return .object(o)
  }
  static func integer(_ range: ClosedRange<Int>) -> JSON {
    ["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)]
  }

  /// Shapes of the keys of a test (and of `defaults`, which take the same shapes).
  static let testEntries: [String: Entry] = [
    "name": string("The test's name; its slug makes the case id."),
    "description": string("What the test checks."),
    "tags": (oneOf([["type": "string"], stringList]), "Tags, for --tag."),
    "vars": (["type": "object"], "Template variables ({{name}})."),
    "matrix": (
      ["type": "object", "additionalProperties": ["type": "array"]], "Each key's values: one case per combination."
    ),
    "messages": (
      ["type": "array", "items": ["type": "object"]], "The conversation, OpenAI shape or {user: …} shorthand."
    ),
    "prompt": string("The user message (instead of messages)."),
    "system": string("The system message."),
    "params": (["type": "object"], "Request parameters, sent as given after their checks."),
    "assert": (["type": "array", "items": ["$ref": "#/$defs/assertion"]], "Assertions; every one is evaluated."),
    "golden": (
      oneOf([
        ["type": "boolean"],
        [
          "type": "object",
          "properties": ["on": ["enum": ["output", "reasoning", "response"]], "normalize": ["type": "array"]],
          "additionalProperties": false,
        ],
      ]),
      "Compare with a golden file (true, or {on, normalize})."
    ),
    "repeat": (
      oneOf([
        integer(1...10_000),
        [
          "type": "object", "properties": ["min": integer(1...10_000), "max": integer(1...10_000)], "required": ["max"],
          "additionalProperties": false,
        ],
      ]),
      "Samples per case: N, or {min, max} for adaptive repeats."
    ),
    "min_pass_rate": (
      oneOf([
        number(0...1),
        [
          "type": "object", "properties": ["rate": number(0...1), "confidence": number(0.5...0.9999)],
          "required": ["rate"], "additionalProperties": false,
        ],
      ]),
      "Fraction of the samples that must pass, or {rate, confidence} for the Wilson lower bound."
    ),
    "skip": (oneOf([["type": "boolean"], ["type": "string"]]), "Skip the test (true, or the reason)."),
    "only": bool("Run only the tests marked so (refused when CI is set unless --allow-only)."),
    "model": string("The model id."),
    "provider": (
      oneOf([["type": "string"], ["type": "object"]]), "A provider's name from promptcheck.yaml, or an inline provider."
    ),
    "providers": (stringList, "Targets: run every case with each of these providers (the id carries @provider:model)."),
    "threshold": (number(0...1), "Pass when the passing assertions' weights make up this share of the total weight."),
    "transform": (
      oneOf([["type": "string"], ["type": "object"], ["type": "array"]]),
      "Shape the output before the assertions: strip-code-fence, extract-json, {regex-capture: PATTERN}, or a list."
    ),
    "models": (stringList, "Targets: run every case with each of these models."),
    "prompts": (
      oneOf([
        ["type": "object", "additionalProperties": oneOf([["type": "string"], ["type": "object"]])],
        ["type": "array", "items": oneOf([["type": "string"], ["type": "object"]])],
      ]),
      "Prompt versions: files whose text is the user prompt (or inline {raw: TEXT}, {label, raw} in a list), each a case of its own."
    ),
    "dataset": (
      ["type": "string", "pattern": "\\.(csv|jsonl)$"], "A CSV or JSONL file: one case per row, its columns as vars."
    ),
    "mocks": (
      ["type": "object"],
      "Tool results by tool name: a value, a list of {when, result} cases, or {exec: COMMAND, timeout_ms}; the test runs a tool loop."
    ),
    "mcp": (
      oneOf([stringList, ["type": "object"]]),
      "MCP servers (from mcp_servers in promptcheck.yaml) whose tools are offered: [NAME], or {NAME: {tools: [allowed]}}."
    ),
    "loop": (
      [
        "type": "object",
        "properties": ["max_steps": integer(1...ToolLoop.maxMaxSteps), "first_step": ["type": "object"]],
        "additionalProperties": false,
      ],
      "The tool loop: max_steps (model calls, default 10) and first_step (params of the first call only)."
    ),
    "target": (
      oneOf([["type": "string"], ["type": "object"]]),
      "The app that answers instead of a provider: a target's name from promptcheck.yaml, or an inline {http: …} / {command: …}."
    ),
    "turns": (
      [
        "type": "array", "minItems": 1,
        "items": [
          "type": "object",
          "properties": [
            "user": ["type": "string"], "assert": ["type": "array"],
            "golden": oneOf([["type": "boolean"], ["type": "object"]]),
          ],
          "required": ["user"], "additionalProperties": false,
        ],
      ],
      "A scripted conversation: each turn's user message, answered in turn, and the checks (assert, golden) on its reply."
    ),
    "on_turn_failure": (
      ["enum": .array(Conversation.OnFailure.allCases.map { .string($0.rawValue) })],
      "Whether a turn whose checks fail ends the conversation (stop, the default) or it goes on (continue)."
    ),
    "simulate": (
      [
        "type": "object",
        "properties": [
          "persona": ["type": "string"], "goal": ["type": "string"], "max_turns": integer(1...Simulation.maxMaxTurns),
          "stop": ["type": "string"], "first_message": ["type": "string"], "provider": ["type": "string"],
          "model": ["type": "string"], "params": ["type": "object"],
        ],
        "required": ["persona", "goal"], "additionalProperties": false,
      ],
      "A simulated user: persona, goal, max_turns (default 6), stop marker (default ###STOP###), first_message."
    ),
  ]

  static let suiteEntries: [String: Entry] = [
    "description": string("What the suite covers."),
    "provider": testEntries["provider"] ?? (.null, ""),
    "model": string("The model for every test of the suite."),
    "system": string("The system message of every test."),
    "defaults": (["$ref": "#/$defs/defaults"], "Keys merged into every test."),
    "tests": (["type": "array", "items": ["$ref": "#/$defs/test"], "minItems": 1], "The tests."),
    "providers": testEntries["providers"] ?? (.null, ""),
    "models": testEntries["models"] ?? (.null, ""),
    "prompts": testEntries["prompts"] ?? (.null, ""),
    "mocks": testEntries["mocks"] ?? (.null, ""),
    "mcp": testEntries["mcp"] ?? (.null, ""),
    "target": testEntries["target"] ?? (.null, ""),
  ]

  static let providerEntries: [String: Entry] = [
    "base_url": (
      ["type": "string", "pattern": "^https?://"],
      "The API root, e.g. https://openrouter.ai/api/v1 (promptcheck appends /chat/completions)."
    ),
    "api_key_env": (
      ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"], "The environment variable that holds the key."
    ),
    "headers": (["type": "object", "additionalProperties": ["type": "string"]], "Extra request headers (no secrets)."),
    "model": string("The default model."),
    "pricing": (
      [
        "type": "object", "properties": ["prompt": number(0...1_000_000), "completion": number(0...1_000_000)],
        "required": ["prompt", "completion"], "additionalProperties": false,
      ], "USD per million tokens, for a server that reports no cost."
    ),
  ]

  /// The schema of a run setting, from its row's type.
  static func entry(_ row: any SettingRow) -> Entry {
    let schema: JSON
    switch row.type {
    case .flag: schema = ["type": "boolean"]
    case .integer(let r): schema = integer(r)
    case .seconds, .fraction, .amount: schema = number(row.type.numberRange ?? 0...1)
    case .path: schema = ["type": "string"]
    case .patterns: schema = oneOf([["type": "string"], stringList])
    case .choice(let words): schema = ["enum": .array(words.map { .string($0) })]
    case .parsed(let pattern, _): schema = ["type": "string", "pattern": .string(pattern)]
    }
    return (schema, row.flagHelp)
  }

  static var configEntries: [String: Entry] {
    var entries: [String: Entry] = [
      "tests_dir": string("Where suites live (default prompts)."),
      "expectations_dir": string("Where cassettes and goldens live (default expectations)."),
      "providers": (["type": "object", "additionalProperties": ["$ref": "#/$defs/provider"]], "Providers by name."),
      "default_provider": string("The provider suites use when they name none."),
      "think_tags": (
        ["enum": .array(Config.ThinkTags.allCases.map { .string($0.rawValue) })],
        "Inline <think> blocks: split (default) or keep."
      ),
      "retry_empty": bool("Ask an empty answer once more (default true)."),
      "calibration": (
        [
          "type": "object", "additionalProperties": false,
          "properties": [
            "min_kappa": ["type": "number", "minimum": -1, "maximum": 1],
            "min_labels": ["type": "integer", "minimum": 1],
          ],
          "required": ["min_kappa"],
        ],
        "The agreement (Cohen's kappa) every judged assertion's recorded verdicts must reach with the labels."
      ),
      "defaults": (["$ref": "#/$defs/defaults"], "Defaults shared by every suite."),
      "suites": (
        oneOf([["type": "string"], stringList]), "Globs of the suite files (instead of every YAML file in tests_dir)."
      ),
      "grader": (
        [
          "type": "object",
          "properties": ["provider": ["type": "string"], "model": ["type": "string"], "params": ["type": "object"]],
          "additionalProperties": false,
        ],
        "Who grades llm-rubric assertions (default: the case's own provider and model)."
      ),
      "simulator": (
        [
          "type": "object",
          "properties": ["provider": ["type": "string"], "model": ["type": "string"], "params": ["type": "object"]],
          "additionalProperties": false,
        ],
        "Who plays a simulated user in tests' simulate: (default: the case's own provider and model)."
      ),
      "embeddings": (
        [
          "type": "object", "properties": ["provider": ["type": "string"], "model": ["type": "string"]],
          "additionalProperties": false,
        ],
        "Who embeds for similar assertions (default: the case's own provider and model)."
      ),
      "targets": (
        ["type": "object", "additionalProperties": ["type": "object"]],
        "The team's apps a suite may test, by name: {http: {url, method, headers, body, response, stream, timeout_ms}, start: {run, ready, timeout_ms, env, cwd}} or {command: {run, stdin, output, response, timeout_ms, env}}, with provider, env_base_url, env_api_key and session."
      ),
      "mcp_servers": (
        [
          "type": "object",
          "additionalProperties": [
            "type": "object",
            "properties": [
              "command": oneOf([["type": "string"], stringList]), "env": ["type": "object"], "cwd": ["type": "string"],
              "url": ["type": "string", "pattern": "^https?://"], "timeout_ms": integer(1...600_000),
            ],
            "additionalProperties": false,
          ],
        ],
        "MCP servers by name, for tests' mcp: {command: [argv…], env, cwd} (stdio) or {url} (Streamable HTTP)."
      ),
    ]
    for row in RunSettings.table.rows { entries[row.key] = entry(row) }
    return entries
  }

  /// An object of `keys` (in the loader's order), each shaped by `entries`, nothing else allowed.
  static func object(_ keys: [String], _ entries: [String: Entry], required: [String] = []) -> JSON {
    var properties = JSONObject()
    for k in keys {
      guard let e = entries[k], case .object(var s) = e.schema else {
        properties[k] = [:]
        continue
      }
      s["description"] = .string(e.description)
      properties[k] = .object(s)
    }
    var o = JSONObject([("type", "object"), ("properties", .object(properties)), ("additionalProperties", false)])
    if !required.isEmpty { o["required"] = .array(required.map { .string($0) }) }
    return .object(o)
  }

  /// One assertion: `{KIND: VALUE}` (or `not-KIND`) with optional `name` and `on`, or promptfoo's `{type, value}`.
  static var assertion: JSON {
    var properties = JSONObject()
    for k in Assertion.Kind.names {
      properties[k] = [:]
      properties["not-" + k] = [:]
    }
    properties["name"] = ["type": "string"]
    properties["on"] = [
      "anyOf": [
        ["enum": ["output", "reasoning", "response", "trajectory", "transcript"]],
        ["type": "string", "pattern": "^(step|turn)\\[[1-9][0-9]{0,5}\\](\\.(output|reasoning|response))?$"],
      ]
    ]
    properties["type"] = ["enum": .array(Assertion.Kind.names.flatMap { [JSON.string($0), .string("not-" + $0)] })]
    properties["value"] = [:]
    properties["weight"] = number(0...1_000_000)
    properties["transform"] = [:]
    for k in NodeReader.longFormJudgeKeys { properties[k] = [:] }
    return ["type": "object", "properties": .object(properties), "additionalProperties": false, "minProperties": 1]
  }

  package static var suite: JSON {
    var root = JSONObject([
      ("$schema", "https://json-schema.org/draft/2020-12/schema"), ("title", "promptcheck suite"),
    ])
    guard case .object(let body) = object(SuiteLoader.suiteKeys, suiteEntries, required: ["tests"]) else {
      return .null
    }
    for m in body.members { root[m.key] = m.value }
    root["$defs"] = .object(
      JSONObject([
        ("test", object(SuiteLoader.testKeys, testEntries, required: ["name"])),
        ("defaults", object(SuiteLoader.defaultsKeys, testEntries)),
        ("assertion", assertion),
      ]))
    return .object(root)
  }

  package static var config: JSON {
    var root = JSONObject([
      ("$schema", "https://json-schema.org/draft/2020-12/schema"), ("title", "promptcheck.yaml"),
    ])
    guard case .object(let body) = object(ConfigLoader.keys, configEntries) else { return .null }
    for m in body.members { root[m.key] = m.value }
    root["$defs"] = .object(
      JSONObject([
        ("provider", object(ConfigLoader.providerKeys, providerEntries, required: ["base_url"])),
        ("defaults", object(SuiteLoader.defaultsKeys, testEntries)),
        ("test", object(SuiteLoader.testKeys, testEntries, required: ["name"])),
        ("assertion", assertion),
      ]))
    return .object(root)
  }

  /// Keys the loader accepts that the tables do not shape (a test keeps this empty).
  package static var unshapedKeys: [String] {
    SuiteLoader.suiteKeys.filter { suiteEntries[$0] == nil } + SuiteLoader.testKeys.filter { testEntries[$0] == nil }
      + ConfigLoader.keys.filter { configEntries[$0] == nil }
      + ConfigLoader.providerKeys.filter { providerEntries[$0] == nil }
  }
}
