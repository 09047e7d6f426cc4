/// One compiled assertion of a test (README "Assertions"). Evaluating it never throws: a
/// failure is a value (see `Finding`).
public struct Assertion: Sendable {
  public enum Subject: String, Sendable, CaseIterable {
    case output, reasoning, response
  }

  public enum Check: Sendable {
    case equals(JSON)
    case contains(String)
    case icontains(String)
    case containsAny([String])
    case containsAll([String])
    case startsWith(String)
    case endsWith(String)
    case regex(CompiledRegex)
    case length(min: Int?, max: Int?)
    case isJSON(JSONSchema?)
    case jsonPath(JSONPathCheck)
    case finishReason(String)
    case toolCall(name: String, arguments: [JSONPathCheck])
    case maxLatencyMS(Int)
    case maxTokens(prompt: Int?, completion: Int?, total: Int?)
    case maxCost(Double)
  }

  /// Every kind of README "Assertions", as written in a suite.
  public enum Kind: String, Sendable, CaseIterable {
    case equals, contains, icontains
    case containsAny = "contains-any"
    case containsAll = "contains-all"
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

    /// Kinds that read a subject, so `on:` applies to them (the others read the response's metadata).
    public var readsSubject: Bool {
      switch self {
      case .equals, .contains, .icontains, .containsAny, .containsAll, .startsWith, .endsWith, .regex, .length, .isJSON,
        .jsonPath:
        return true
      case .finishReason, .toolCall, .maxLatencyMS, .maxTokens, .maxCost:
        return false
      }
    }

    /// The names, for "did you mean" hints.
    public static let names = allCases.map(\.rawValue)
  }

  /// The kind, without `not-`.
  public var kind: Kind
  public var negated: Bool
  public var check: Check
  public var subject: Subject
  public var name: String?
  /// Position in the test's (defaults-first) assertion list: `assert[index]`.
  public var index: Int
  public var location: SourceLocation

  /// `not-contains` etc.
  public var fullKind: String { negated ? "not-" + kind.rawValue : kind.rawValue }

  /// `assert[2]` or `assert[2] "name"`.
  public var label: String {
    if let name { return "assert[\(index)] (\(name))" }
    return "assert[\(index)]"
  }
}

/// `json-path` and `tool-call` argument checks: a path and what its nodes must satisfy.
public struct JSONPathCheck: Sendable {
  public var path: JSONPath
  public var comparison: Comparison

  public enum Comparison: Sendable {
    /// Bare expression: at least one node.
    case nonEmpty
    case equals(JSON)
    case contains(JSON)
    case matches(CompiledRegex)
    case count(Int)
    case exists(Bool)
  }
}

/// The subset of JSON Schema 2020-12 that `is-json` supports.
public final class JSONSchema: Sendable {
  public let types: [String]?
  public let properties: [(name: String, schema: JSONSchema)]
  public let required: [String]
  public let items: JSONSchema?
  public let enumValues: [JSON]?
  public let constValue: JSON?
  public let minimum: Double?
  public let maximum: Double?
  public let minLength: Int?
  public let maxLength: Int?
  public let pattern: CompiledRegex?
  public let additionalProperties: Additional

  public enum Additional: Sendable {
    case allowed
    case forbidden
    case schema(JSONSchema)
  }

  public static let keywords = [
    "type", "properties", "required", "items", "enum", "const", "minimum", "maximum",
    "minLength", "maxLength", "pattern", "additionalProperties",
  ]
  /// Annotations that do not constrain anything; accepted and ignored.
  public static let annotations = ["$schema", "$id", "$comment", "title", "description", "default", "examples"]
  public static let typeNames = ["null", "boolean", "object", "array", "number", "integer", "string"]

  init(
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
