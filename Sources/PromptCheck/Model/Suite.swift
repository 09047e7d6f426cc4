/// One suite file (README "Suite files").
public struct Suite: Sendable {
  /// Path under the tests dir without extension, e.g. `support/refunds`.
  public var name: String
  /// The file as it was named when loading (used in diagnostics and reports).
  public var file: String
  public var description: String?
  public var tests: [TestDefinition]
}

/// One entry of `tests:`, with defaults merged in and its matrix expanded into variants.
public struct TestDefinition: Sendable {
  public var suite: String
  public var name: String
  public var slug: String
  public var location: SourceLocation
  public var description: String?
  public var tags: [String]
  public var golden: GoldenSpec?
  public var repeatCount: Int?
  public var minPassRate: Double?
  public var skip: String?
  public var only: Bool
  public var model: String
  public var provider: Provider
  /// One per matrix combination (a single variant when there is no matrix).
  public var variants: [TestVariant]
}

/// A test with one combination of matrix values, templates rendered.
public struct TestVariant: Sendable {
  /// The matrix values of this variant, in the order the matrix lists its keys.
  public var matrix: [(key: String, value: String)]
  public var vars: [String: String]
  /// Chat messages in the OpenAI shape, `system` first when given.
  public var messages: [JSON]
  /// Request parameters, in the order the suite gives them.
  public var params: JSONObject
  public var assertions: [Assertion]
}

/// `golden: true` or `golden: {on, normalize}` (README "Goldens").
public struct GoldenSpec: Sendable {
  public var subject: Assertion.Subject
  public var normalizers: [Normalizer]

  public enum Normalizer: Sendable {
    case trim
    case collapseWhitespace
    case json
    case replace(CompiledRegex, with: String)
  }
}

/// Makes the slug of README "Files and layout": lower-cased, runs outside `[a-z0-9]` become `-`, trimmed of `-`.
public func slugify(_ s: String) -> String {
  var out = ""
  var pendingDash = false
  for u in s.lowercased().unicodeScalars {
    if ("a"..."z").contains(u) || ("0"..."9").contains(u) {
      if pendingDash && !out.isEmpty { out += "-" }
      pendingDash = false
      out.unicodeScalars.append(u)
    } else {
      pendingDash = true
    }
  }
  return out
}
