/// An OpenAI-compatible endpoint and how to authenticate to it. Its fields live in one shared
/// box: every test and case that uses the provider refers to it.
@dynamicMemberLookup
package struct Provider: Sendable, Hashable, BoxedFields {
  package struct Fields: Sendable, Hashable {
    package var name: String
    package var baseURL: String
    /// The environment variable that holds the API key; nil for servers that need none.
    package var apiKeyEnv: String?
    /// Extra request headers, in the order written.
    package var headers: [Header]
    package var model: String?
    /// USD per million tokens, for a server that reports no `usage.cost`.
    package var pricing: Pricing?
  }

  package var box: FieldBox<Fields>

  package static func == (a: Provider, b: Provider) -> Bool { a.box === b.box || a.box.value == b.box.value }
  package func hash(into hasher: inout Hasher) { box.value.hash(into: &hasher) }

  package struct Pricing: Sendable, Hashable {
    package var prompt: Double
    package var completion: Double

    package init(prompt: Double, completion: Double) {
      self.prompt = prompt
      self.completion = completion
    }

    /// The cost of a call in USD.
    package func cost(promptTokens: Int, completionTokens: Int) -> Double {
      (Double(promptTokens) * prompt + Double(completionTokens) * completion) / 1_000_000
    }
  }

  package struct Header: Sendable, Hashable {
    package var name: String
    package var value: String

    /// Every stored property (the memberwise initializer, visible to the package).
    package init(name: String, value: String) {
      self.name = name
      self.value = value
    }
  }

  package init(
    name: String, baseURL: String, apiKeyEnv: String?, headers: [Header] = [], model: String?, pricing: Pricing? = nil
  ) {
    box = FieldBox(
      Fields(name: name, baseURL: baseURL, apiKeyEnv: apiKeyEnv, headers: headers, model: model, pricing: pricing))
  }

  /// Whether the cost of a call is known: reported by the server (OpenRouter) or priced here.
  package var knowsCost: Bool { isOpenRouter || self.pricing != nil }

  /// OpenRouter routes each request to one of several providers (README "OpenRouter").
  package var isOpenRouter: Bool { URLParts.host(of: self.baseURL)?.hasSuffix("openrouter.ai") ?? false }

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
  /// `think_tags`: what to do with a `<think>…</think>` block at the start of the content.
  package var thinkTags = ThinkTags.split
  /// `retry_empty`: an answer with no content, no tool calls and no finish reason is asked again once.
  package var retryEmpty = true
  /// `calibration: {min_kappa, min_labels}`: the gate of every judged assertion without its own.
  package var calibration: CalibrationGate?
  /// `defaults:` shared by every suite, as written (a suite's own defaults win key by key).
  package var defaults: [(key: String, value: YAMLNode)] = []
  /// `run --provider a,b` / `--model x,y`: the targets of every test for one run.
  package var targetProviders: [String]?
  package var targetModels: [String]?
  /// `suites:` globs (relative to the working folder) that select the suite files, instead of
  /// every YAML file under `tests_dir`.
  package var suiteGlobs: [String]?
  /// `grader:`: who grades `llm-rubric` (else the case's own provider and model).
  package var grader = JudgeTarget()
  /// `embeddings:`: who embeds for `similar` (else the case's own provider and model).
  package var embeddings = JudgeTarget()
  /// `simulator:`: who plays a simulated user (else the case's own provider and model).
  package var simulator = JudgeTarget()
  /// The variables expanded into a provider's `base_url`, with their values: written back as
  /// `${NAME}` wherever promptcheck writes a URL (cassettes, reports).
  package var urlReferences: [(name: String, value: String)] = []
  /// `mcp_servers:`: the MCP servers a looped test may take tools from (README "Agents: tool loops").
  package var mcpServers: [MCPServer] = []

  package func mcpServer(named name: String) -> MCPServer? { mcpServers.first { $0.name == name } }
  /// `targets:`: the team's apps a suite may test (README "Testing your app").
  package var appTargets: [AppTarget] = []
  package func appTarget(named name: String) -> AppTarget? { appTargets.first { $0.name == name } }

  package enum ThinkTags: String, Sendable, CaseIterable {
    /// Move it to the reasoning (content assertions and goldens see only the answer).
    case split
    /// Leave the content as the server sent it.
    case keep
  }

  package init() {}

  package func provider(named name: String) -> Provider? {
    providers.first { $0.name == name }
  }
}
