/// An OpenAI-compatible endpoint and how to authenticate to it.
package struct Provider: Sendable, Hashable {
  package var name: String
  package var baseURL: String
  /// The environment variable that holds the API key; nil for servers that need none.
  package var apiKeyEnv: String?
  /// Extra request headers, in the order written.
  package var headers: [Header]
  package var model: String?

  package struct Header: Sendable, Hashable {
    package var name: String
    package var value: String
  }

  package init(name: String, baseURL: String, apiKeyEnv: String?, headers: [Header] = [], model: String?) {
    self.name = name
    self.baseURL = baseURL
    self.apiKeyEnv = apiKeyEnv
    self.headers = headers
    self.model = model
  }

  /// The provider that exists with no config file (README "The config file").
  package static let builtInOpenRouter = Provider(
    name: "openrouter", baseURL: "https://openrouter.ai/api/v1",
    apiKeyEnv: "OPENROUTER_API_KEY", model: "qwen/qwen3-32b")
}

/// `promptcheck.yaml` (README "The config file"), with defaults filled in.
package struct Config: Sendable {
  package var file: String?
  package var testsDir = "prompts"
  package var expectationsDir = "expectations"
  /// Providers by name, in the order written (the built-in `openrouter` first unless replaced).
  package var providers: [Provider] = [.builtInOpenRouter]
  package var defaultProvider = "openrouter"
  package var run = RunSettings()

  package init() {}

  package func provider(named name: String) -> Provider? {
    providers.first { $0.name == name }
  }
}
