/// One compiled assertion of a test (README "Assertions"). Evaluating it never throws: a
/// failure is a value (see `Finding`).
package struct Assertion: Sendable {
  package enum Subject: String, Sendable, CaseIterable {
    case output, reasoning, response
  }

  /// Which answer `on:` reads (README "Agents: tool loops"): the final one, step N's, or the
  /// whole trajectory as text.
  package enum Scope: Sendable, Equatable {
    case final
    /// `on: step[N]` (1-based, as the reports number steps), with `.response` etc. after it.
    case step(Int)
    /// `on: trajectory`: every step, one line each (`ReportStep.transcript`).
    case trajectory
    /// `on: turn[N]`: a conversation's reply to its N-th user message (README "Conversations").
    case turn(Int)
    /// `on: transcript`: the whole conversation as text (`TurnView.transcript`).
    case transcript
  }

  package enum Check: Sendable {
    case equals(JSON)
    case contains(String)
    case icontains(String)
    case containsAny([String])
    case containsAll([String])
    case icontainsAny([String])
    case icontainsAll([String])
    /// The edit distance (in code points) to `value` is at most `max`.
    case levenshtein(value: String, max: Int)
    case wordCount(min: Int?, max: Int?)
    /// A JSON object or array somewhere in the text (matching the schema when given).
    case containsJSON(JSONSchema?)
    case startsWith(String)
    case endsWith(String)
    case regex(CompiledRegex)
    case length(min: Int?, max: Int?)
    case isJSON(JSONSchema?)
    case jsonPath(JSONPathCheck)
    case finishReason(String)
    case toolCall(name: String, arguments: [JSONPathCheck])
    case maxLatencyMS(Int)
    case maxTokens(prompt: Int?, completion: Int?, total: Int?, reasoning: Int?, cached: Int?)
    case maxCost(Double)
    /// The response's `model` matches the pattern (who actually answered).
    case servedModel(CompiledRegex)
    /// The response's `provider` is one of these names (OpenRouter says which provider served it).
    case servedProvider([String])
    /// A grader model's verdict on the subject (README "Judged assertions").
    case llmRubric(Rubric)
    /// Cosine similarity of the subject's embedding to one of the values'.
    case similar(Similarity)
    /// A local command's verdict on the whole case.
    case exec(ExecCommand)
    /// Passes when one of these passes.
    case anyOf([Assertion])
    /// The tools a looped case called, by name, in trajectory order (README "Agents: tool loops").
    case toolSequence([String], mode: SequenceMode)
    /// How often a tool was called: at least `min` (default 1), at most `max`.
    case toolUsed(name: String, min: Int, max: Int?)
    /// How many model calls the case made.
    case stepCount(min: Int?, max: Int?)
    case turnCount(min: Int?, max: Int?)
    case endedBy(Conversation.Ending)
  }

  /// How `tool-sequence` compares the calls with its list.
  package enum SequenceMode: String, Sendable, CaseIterable {
    /// The calls are exactly these, in this order.
    case exact
    /// These calls come in this order; other calls may come between them.
    case inOrder = "in-order"
    /// Exactly these calls (names and counts), in any order.
    case anyOrder = "any-order"
    /// Every call made is one of these (the model used no other tool).
    case subset
  }

  /// Every kind of README "Assertions", as written in a suite.
  package enum Kind: String, Sendable, CaseIterable {
    case equals, contains, icontains
    case containsAny = "contains-any"
    case containsAll = "contains-all"
    case icontainsAny = "icontains-any"
    case icontainsAll = "icontains-all"
    case levenshtein
    case wordCount = "word-count"
    case containsJSON = "contains-json"
    case startsWith = "starts-with"
    case endsWith = "ends-with"
    case regex, length
    case isJSON = "is-json"
    case jsonPath = "json-path"
    case finishReason = "finish-reason"
    case toolCall = "tool-call"
    case maxLatencyMS = "max-latency-ms"
    case maxTokens = "max-tokens"
    case maxCost = "max-cost"
    case servedModel = "served-model"
    case servedProvider = "served-provider"
    case llmRubric = "llm-rubric"
    case similar, exec
    case anyOf = "any-of"
    case toolSequence = "tool-sequence"
    case toolUsed = "tool-used"
    case stepCount = "step-count"
    case turnCount = "turn-count"
    case endedBy = "ended-by"

    /// Kinds that read a subject, so `on:` applies to them (the others read the response's metadata).
    package var readsSubject: Bool {
      switch self {
      case .equals, .contains, .icontains, .containsAny, .containsAll, .icontainsAny, .icontainsAll, .levenshtein,
        .wordCount, .containsJSON, .startsWith, .endsWith, .regex, .length, .isJSON,
        .jsonPath, .llmRubric, .similar:
        return true
      case .finishReason, .toolCall, .maxLatencyMS, .maxTokens, .maxCost, .servedModel, .servedProvider, .exec,
        .anyOf, .toolSequence, .toolUsed, .stepCount, .turnCount, .endedBy:
        return false
      }
    }

    /// Kinds that read the whole trajectory, so `on: step[N]` does not apply to them.
    package var readsTrajectory: Bool {
      switch self {
      case .toolSequence, .toolUsed, .stepCount, .turnCount, .endedBy, .exec, .anyOf: return true
      default: return false
      }
    }

    /// The names, for "did you mean" hints.
    package static let names = allCases.map(\.rawValue)
  }

  /// The kind, without `not-`.
  package var kind: Kind
  package var negated: Bool
  package var check: Check
  package var subject: Subject
  package var scope: Scope = .final
  package var name: String?
  /// Position in the test's (defaults-first) assertion list: `assert[index]`.
  package var index: Int
  package var location: SourceLocation
  /// `weight:` in a test's weighted score (README "Weights and threshold"); 0 counts for nothing.
  package var weight: Double = 1
  /// `transform:` applied to the subject's text before the check (after the test's own).
  package var transforms: [Transform] = []
  /// For an `any-of` member: the index of the `any-of` it belongs to.
  package var parent: Int? = nil
  /// A scripted turn's check: the turn it checks (README "Conversations").
  package var turn: Int? = nil
  /// `metric:`: a label the reports total by (README "Assertions").
  package var metric: String? = nil

  /// `not-contains` etc.
  package var fullKind: String { negated ? "not-" + kind.rawValue : kind.rawValue }

  /// `assert[2]` or `assert[2] "name"`; an `any-of` member is `assert[2].any-of[0]`.
  package var label: String {
    var position = parent.map { "assert[\($0)].any-of[\(index)]" } ?? "assert[\(index)]"
    if let turn { position = "turn \(turn) " + position }
    if let name { return "\(position) (\(name))" }
    return position
  }

  /// Names the assertion among its test's, for the judgements made for it (`2`, `2.0`).
  package var key: String {
    let own = parent.map { "\($0).\(index)" } ?? "\(index)"
    return turn.map { "t\($0).\(own)" } ?? own
  }

  /// Whether evaluating it needs a judge (a grader or embedding call, or a command).
  package var isJudged: Bool {
    switch check {
    case .llmRubric, .similar, .exec: return true
    case .anyOf(let members): return members.contains(where: \.isJudged)
    default: return false
    }
  }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(
    kind: Kind, negated: Bool, check: Check, subject: Subject, name: String? = nil, index: Int,
    location: SourceLocation, weight: Double = 1, transforms: [Transform] = [], parent: Int? = nil,
    scope: Scope = .final
  ) {
    self.kind = kind
    self.negated = negated
    self.check = check
    self.subject = subject
    self.scope = scope
    self.name = name
    self.index = index
    self.location = location
    self.weight = weight
    self.transforms = transforms
    self.parent = parent
  }
}

/// `json-path` and `tool-call` argument checks: a path and what its nodes must satisfy.
package struct JSONPathCheck: Sendable {
  package var path: JSONPath
  package var comparison: Comparison

  package enum Comparison: Sendable {
    /// Bare expression: at least one node.
    case nonEmpty
    case equals(JSON)
    case contains(JSON)
    case matches(CompiledRegex)
    case count(Int)
    case exists(Bool)
  }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(path: JSONPath, comparison: Comparison) {
    self.path = path
    self.comparison = comparison
  }
}

/// The subset of JSON Schema 2020-12 that `is-json` supports.
package final class JSONSchema: Sendable {
  package let types: [String]?
  package let properties: [(name: String, schema: JSONSchema)]
  package let required: [String]
  package let items: JSONSchema?
  package let enumValues: [JSON]?
  package let constValue: JSON?
  package let minimum: Double?
  package let maximum: Double?
  package let minLength: Int?
  package let maxLength: Int?
  package let pattern: CompiledRegex?
  package let additionalProperties: Additional

  package enum Additional: Sendable {
    case allowed
    case forbidden
    case schema(JSONSchema)
  }

  package static let keywords = [
    "type", "properties", "required", "items", "enum", "const", "minimum", "maximum",
    "minLength", "maxLength", "pattern", "additionalProperties",
  ]
  /// Annotations that do not constrain anything; accepted and ignored.
  package static let annotations = ["$schema", "$id", "$comment", "title", "description", "default", "examples"]
  package static let typeNames = ["null", "boolean", "object", "array", "number", "integer", "string"]

  package init(
    types: [String]?, properties: [(name: String, schema: JSONSchema)], required: [String], items: JSONSchema?,
    enumValues: [JSON]?, constValue: JSON?, minimum: Double?, maximum: Double?, minLength: Int?, maxLength: Int?,
    pattern: CompiledRegex?, additionalProperties: Additional
  ) {
    self.types = types
    self.properties = properties
    self.required = required
    self.items = items
    self.enumValues = enumValues
    self.constValue = constValue
    self.minimum = minimum
    self.maximum = maximum
    self.minLength = minLength
    self.maxLength = maxLength
    self.pattern = pattern
    self.additionalProperties = additionalProperties
  }
}
