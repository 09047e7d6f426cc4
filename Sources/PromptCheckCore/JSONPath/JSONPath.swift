/// An RFC 9535 JSONPath query, parsed and type-checked once, evaluated many times.
package struct JSONPath: Sendable, CustomStringConvertible {
  package let expression: String
  let query: Query

  /// Parses `expression`; throws with the offending character's position when it is not valid RFC 9535.
  package init(_ expression: String) throws(JSONPathError) {
    self.expression = expression
    var parser = JSONPathParser(expression)
    self.query = try parser.parseRoot()
  }

  package var description: String { expression }

  /// True when the query can select at most one node (only name and index child segments).
  package var isSingular: Bool { query.isSingular }

  /// The selected values, in nodelist order. `match()` and `search()` share one
  /// regex deadline for the whole evaluation; past it the query throws.
  package func select(_ document: JSON, deadline: Duration = RegexGuard.limit) throws(RegexTimeoutError) -> [JSON] {
    var ctx = EvaluationContext(root: document, trackPaths: false, limit: deadline)
    let nodes = ctx.evaluate(query, current: document)
    if let timeout = ctx.timeout { throw timeout }
    return nodes.map(\.value)
  }

  /// The selected nodes with their normalized paths (e.g. `$['a'][0]`).
  package func selectWithPaths(_ document: JSON, deadline: Duration = RegexGuard.limit) throws(RegexTimeoutError) -> [(
    path: String, value: JSON
  )] {
    var ctx = EvaluationContext(root: document, trackPaths: true, limit: deadline)
    let nodes = ctx.evaluate(query, current: document)
    if let timeout = ctx.timeout { throw timeout }
    return nodes.map { (JSONPath.normalizedPath($0.path), $0.value) }
  }

  /// RFC 9535 §2.7 normalized path text of a list of path elements.
  package static func normalizedPath(_ elements: [PathElement]) -> String {
    var out = "$"
    for e in elements {
      switch e {
      case .index(let i): out += "[\(i)]"
      case .name(let n):
        out += "['"
        JSON.appendEscaped(n, quote: "'", into: &out)
        out += "']"
      }
    }
    return out
  }

  package enum PathElement: Sendable, Hashable {
    case name(String)
    case index(Int)
  }
}

/// A JSONPath syntax or typing error; `offset` counts Unicode scalars from the start of the expression.
package struct JSONPathError: Error, Sendable, Equatable, CustomStringConvertible {
  package var message: String
  package var offset: Int
  package var expression: String

  package var description: String { "invalid JSONPath at character \(offset + 1): \(message)" }

  /// The expression with a caret under the offending character.
  package var pointer: String {
    var caret = ""
    for (i, u) in expression.unicodeScalars.enumerated() where i < offset {
      caret += u == "\t" ? "\t" : " "
    }
    return expression + "\n" + caret + "^"
  }
}

// MARK: - Syntax tree

struct Query: Sendable {
  var absolute: Bool
  var segments: [Segment]

  var isSingular: Bool {
    segments.allSatisfy { seg in
      guard case .child(let sels) = seg, sels.count == 1 else { return false }
      switch sels[0] {
      case .name, .index: return true
      default: return false
      }
    }
  }
}

enum Segment: Sendable {
  case child([Selector])
  case descendant([Selector])
}

enum Selector: Sendable {
  case name(String)
  case wildcard
  case index(Int)
  case slice(start: Int?, end: Int?, step: Int?)
  case filter(LogicalExpression)
}

indirect enum LogicalExpression: Sendable {
  case or([LogicalExpression])
  case and([LogicalExpression])
  case not(LogicalExpression)
  case comparison(FilterOperand, ComparisonOperator, FilterOperand)
  case existence(Query)
  case function(FunctionCall)
}

enum ComparisonOperator: String, Sendable {
  case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

indirect enum FilterOperand: Sendable {
  case literal(JSON)
  case query(Query)
  case function(FunctionCall)
}

enum FunctionName: String, Sendable {
  case length, count, match, search, value

  enum ResultType { case value, logical, nodes }
  enum ParameterType { case value, logical, nodes }

  var resultType: ResultType {
    switch self {
    case .length, .count, .value: return .value
    case .match, .search: return .logical
    }
  }

  var parameters: [ParameterType] {
    switch self {
    case .length: return [.value]
    case .count, .value: return [.nodes]
    case .match, .search: return [.value, .value]
    }
  }
}

struct FunctionCall: Sendable {
  var name: FunctionName
  var arguments: [FunctionArgument]
  /// For match/search with a literal pattern: the pattern compiled once at parse time (nil if it is not valid I-Regexp).
  var compiledPattern: IRegexp?
  var patternIsLiteral = false
}

indirect enum FunctionArgument: Sendable {
  case literal(JSON)
  case query(Query)
  case logical(LogicalExpression)
  case function(FunctionCall)
}
