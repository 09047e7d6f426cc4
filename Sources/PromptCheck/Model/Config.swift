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

  /// The provider that exists with no config file (README "The config file").
  public static let builtInOpenRouter = Provider(
    name: "openrouter", baseURL: "https://openrouter.ai/api/v1",
    apiKeyEnv: "OPENROUTER_API_KEY", model: "qwen/qwen3-32b")
}

/// `promptcheck.yaml` (README "The config file"), with defaults filled in.
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
