/// An OpenAI-compatible endpoint and how to authenticate to it.
public struct Provider: Sendable, Hashable {
  public var name: String
  public var baseURL: String
  /// The environment variable that holds the API key; nil for servers that need none.
  public var apiKeyEnv: String?
  /// Extra request headers, in the order written.
  public var headers: [Header]
  public var model: String?

  public struct Header: Sendable, Hashable {
    public var name: String
    public var value: String
  }

  public init(name: String, baseURL: String, apiKeyEnv: String?, headers: [Header] = [], model: String?) {
    self.name = name
    self.baseURL = baseURL
    self.apiKeyEnv = apiKeyEnv
    self.headers = headers
    self.model = model
  }

  /// The provider that exists with no config file (spec §3).
  public static let builtInOpenRouter = Provider(
    name: "openrouter", baseURL: "https://openrouter.ai/api/v1",
    apiKeyEnv: "OPENROUTER_API_KEY", model: "qwen/qwen3-32b")
}

/// Run options that `promptcheck.yaml` may set; a command-line flag wins over each.
public struct RunSettings: Sendable, Equatable {
  public var mode: String?
  public var filter: [String]?
  public var tag: [String]?
  public var jobs: Int?
  public var timeout: Double?
  public var retries: Int?
  public var updateGoldens: Bool?
  public var junit: String?
  public var json: String?
  public var html: String?
  public var shard: String?
  public var rerunFailed: Bool?
  public var minPassRate: Double?
  public var maxCost: Double?
  public var noColor: Bool?
  public var quiet: Bool?
  public var verbose: Bool?
  public init() {}
}

/// `promptcheck.yaml` (spec §3), with defaults filled in.
public struct Config: Sendable {
  public var file: String?
  public var testsDir = "prompts"
  public var expectationsDir = "expectations"
  /// Providers by name, in the order written (the built-in `openrouter` first unless replaced).
  public var providers: [Provider] = [.builtInOpenRouter]
  public var defaultProvider = "openrouter"
  public var run = RunSettings()

  public init() {}

  public func provider(named name: String) -> Provider? {
    providers.first { $0.name == name }
  }
}

/// One suite file (spec §4).
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

/// `golden: true` or `golden: {on, normalize}` (spec §8).
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

/// Makes the slug of spec §2: lower-cased, runs outside `[a-z0-9]` become `-`, trimmed of `-`.
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
