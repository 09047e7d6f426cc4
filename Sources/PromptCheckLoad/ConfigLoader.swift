import PromptCheckCore

/// Reads `promptcheck.yaml` (README "The config file").
package enum ConfigLoader {
  package static let keys =
    [
      "tests_dir", "expectations_dir", "providers", "default_provider",
    ] + RunSettings.table.rows.map(\.key) + [
      "think_tags", "retry_empty", "calibration", "defaults", "suites", "grader", "embeddings", "simulator",
      "mcp_servers", "targets",
    ]
  package static let providerKeys = ["base_url", "api_key_env", "headers", "model", "pricing"]

  /// Parses config text. Returns the config (defaults where a value is bad) and every problem found.
  package static func load(text: String, file: String, environment: [String: String] = [:]) -> (Config, [Diagnostic]) {
    var config = Config()
    config.file = file
    var root: YAMLNode
    do {
      root = try YAMLParser.parse(text, file: file)
    } catch {
      return (config, [error])
    }
    // `${VAR}` and `${VAR:-default}` in the config's strings, from the environment.
    var expansionProblems: [Diagnostic] = []
    root = EnvironmentExpansion.expand(
      root, environment, problems: &expansionProblems, references: &config.urlReferences)
    if !expansionProblems.isEmpty { return (config, expansionProblems) }
    if case .null? = root.resolved { return (config, []) }
    var r = NodeReader()
    guard let m = r.map(root, "the config file", allowed: keys) else { return (config, r.sink.diagnostics) }

    if let v = m["tests_dir"], let s = r.strictString(v, "tests_dir") { config.testsDir = s }
    if let v = m["expectations_dir"], let s = r.strictString(v, "expectations_dir") { config.expectationsDir = s }
    var definedProviders: [String] = []
    if let v = m["providers"], let pairs = v.mapping {
      for pair in pairs {
        let name = pair.key.scalar?.text ?? ""
        if let p = r.provider(pair.value, name: name, what: "providers.\(name)", requireURL: true) {
          config.providers.removeAll { $0.name == name }
          config.providers.append(p)
          definedProviders.append(name)
        }
      }
    } else if let v = m["providers"] {
      r.error("providers must be a map of provider names, found \(v.kindDescription)", at: v)
    }
    if let v = m["default_provider"], let s = r.strictString(v, "default_provider") {
      if config.provider(named: s) == nil {
        var message = "default_provider '\(s)' is not a provider"
        if let guess = closestMatch(to: s, in: config.providers.map(\.name)) { message += "; did you mean '\(guess)'?" }
        r.error(message, at: v)
      } else {
        config.defaultProvider = s
      }
    } else if definedProviders.count == 1 {
      // One provider defined and none named default: that one is the default.
      config.defaultProvider = definedProviders[0]
    }
    config.run = r.runSettings(m)
    r.judgeProviders = config.providers
    if let v = m["grader"], let g = r.map(v, "grader", allowed: NodeReader.judgeTargetKeys) {
      config.grader = r.judgeTarget(g, "grader")
    }
    if let v = m["simulator"], let g = r.map(v, "simulator", allowed: NodeReader.judgeTargetKeys) {
      config.simulator = r.judgeTarget(g, "simulator", caller: "simulator")
    }
    if let v = m["embeddings"], let e = r.map(v, "embeddings", allowed: ["provider", "model"]) {
      config.embeddings = r.judgeTarget(e, "embeddings", allowsParams: false)
    }
    if let v = m["think_tags"], let text = r.strictString(v, "think_tags") {
      if let t = Config.ThinkTags(rawValue: text) {
        config.thinkTags = t
      } else {
        r.error("think_tags must be split or keep, found '\(text)'", at: v)
      }
    }
    if let v = m["retry_empty"], let b = r.bool(v, "retry_empty") { config.retryEmpty = b }
    if let v = m["calibration"], let c = r.map(v, "calibration", allowed: ["min_kappa", "min_labels"]) {
      config.calibration = r.calibrationGate(c, "calibration")
    }
    if let v = m["mcp_servers"] { config.mcpServers = r.mcpServers(v) }
    if let v = m["targets"] { config.appTargets = r.appTargets(v) }
    // Shared by every suite (a suite's own defaults win); values are checked where a suite uses them.
    if let d = m["defaults"] { config.defaults = r.defaults(d) }
    if let v = m["suites"] {
      let globs = v.scalar != nil ? r.string(v, "suites").map { [$0] } : r.stringList(v, "suites")
      if let globs {
        if globs.isEmpty { r.error("suites needs at least one glob (e.g. prompts/**/*.yaml)", at: v) }
        config.suiteGlobs = globs
      }
    }
    return (config, Diagnostic.inFileOrder(r.sink.diagnostics))
  }
}

extension NodeReader {
  mutating func provider(_ node: YAMLNode, name: String, what: String, requireURL: Bool) -> Provider? {
    guard let m = map(node, what, allowed: ConfigLoader.providerKeys) else { return nil }
    guard let urlNode = m["base_url"] else {
      error("\(what) needs a base_url (e.g. https://openrouter.ai/api/v1)", at: node)
      return nil
    }
    guard let url = strictString(urlNode, "\(what).base_url") else { return nil }
    refuseTemplate(urlNode, "\(what).base_url")
    refuseTemplate(m["model"], "\(what).model")
    if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
      error("\(what).base_url must start with http:// or https://, found '\(url)'", at: urlNode)
    }
    for suffix in ["/chat/completions", "/chat/completions/"] where url.hasSuffix(suffix) {
      error(
        "\(what).base_url ends in /chat/completions, which promptcheck appends itself; "
          + "use '\(url.dropLast(suffix.count))'", at: urlNode)
    }
    var headers: [Provider.Header] = []
    if let h = m["headers"] {
      if let pairs = h.mapping {
        for p in pairs {
          let key = p.key.scalar?.text ?? ""
          refuseTemplate(p.value, "\(what).headers.\(key)")
          if let value = string(p.value, "\(what).headers.\(key)") {
            if ["authorization", "cookie", "x-api-key", "api-key"].contains(key.lowercased()) {
              error(
                "\(what).headers.\(key): secrets never go in a file; name the variable that holds the key in api_key_env",
                at: p.key)
            } else {
              headers.append(.init(name: key, value: value))
            }
          }
        }
      } else {
        error("\(what).headers must be a map, found \(h.kindDescription)", at: h)
      }
    }
    var keyEnv: String?
    if let k = m["api_key_env"] {
      keyEnv = strictString(k, "\(what).api_key_env")
      if let env = keyEnv, env.hasPrefix("sk-") || env.contains(" ") {
        error("\(what).api_key_env names an environment variable (e.g. OPENROUTER_API_KEY), not the key itself", at: k)
        keyEnv = nil
      } else if let env = keyEnv, env.hasPrefix("$") {
        let name = env.trimmingCharacters(in: "${}")
        error("\(what).api_key_env is the variable's name without '$': write '\(name)'", at: k)
        keyEnv = nil
      } else if keyEnv == "" {
        error(
          "\(what).api_key_env is empty: name the variable that holds the key, or remove it for a server that needs none",
          at: k)
        keyEnv = nil
      }
    }
    var pricing: Provider.Pricing?
    if let p = m["pricing"], let pm = map(p, "\(what).pricing", allowed: ["prompt", "completion"]) {
      let prompt = pm["prompt"].flatMap { number($0, "\(what).pricing.prompt", in: 0...1_000_000) }
      let completion = pm["completion"].flatMap { number($0, "\(what).pricing.completion", in: 0...1_000_000) }
      if pm["prompt"] == nil || pm["completion"] == nil {
        error("\(what).pricing needs prompt and completion (USD per million tokens)", at: p)
      } else if let prompt, let completion {
        pricing = Provider.Pricing(prompt: prompt, completion: completion)
      }
    }
    let model = m["model"].flatMap { strictString($0, "\(what).model") }
    return Provider(
      name: name, baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, apiKeyEnv: keyEnv, headers: headers,
      model: model, pricing: pricing)
  }

  /// Each row of `RunSettings.table` the config gives, read as the row's type says.
  mutating func runSettings(_ m: [String: YAMLNode]) -> RunSettings {
    var s = RunSettings()
    for row in RunSettings.table.rows {
      guard let v = m[row.key], let input = settingInput(v, row.key, row.type) else { continue }
      if let problem = row.assign(input, to: &s) { error(problem, at: v) }
    }
    return s
  }

  mutating func settingInput(_ v: YAMLNode, _ key: String, _ type: SettingType) -> SettingInput? {
    switch type {
    case .flag: return bool(v, key).map { .bool($0) }
    case .integer(let r): return int(v, key, min: r.lowerBound, max: r.upperBound).map { .int($0) }
    case .seconds, .fraction, .amount: return number(v, key, in: type.numberRange).map { .number($0) }
    case .path, .choice: return strictString(v, key).map { .string($0) }
    case .parsed: return string(v, key).map { .string($0) }
    case .patterns:
      if v.scalar != nil { return string(v, key).map { .strings([$0]) } }
      return stringList(v, key).map { .strings($0) }
    }
  }

}

extension NodeReader {
  static let mcpServerKeys = ["command", "env", "cwd", "url", "timeout_ms"]

  /// `mcp_servers: {NAME: {command: [argv…], env, cwd} | {url}}`.
  mutating func mcpServers(_ node: YAMLNode) -> [MCPServer] {
    guard let pairs = node.mapping else {
      error("mcp_servers must be a map of server names, found \(node.kindDescription)", at: node)
      return []
    }
    var out: [MCPServer] = []
    for p in pairs {
      let name = p.key.scalar?.text ?? ""
      let what = "mcp_servers.\(name)"
      guard let m = map(p.value, what, allowed: Self.mcpServerKeys) else { continue }
      let timeout = m["timeout_ms"].flatMap { int($0, "\(what).timeout_ms", min: 1, max: 600_000) }
      if let u = m["url"] {
        if ["command", "env", "cwd"].contains(where: { m[$0] != nil }) {
          error("\(what): give either 'url' (Streamable HTTP) or 'command' (stdio), not both", at: p.value)
        }
        guard let url = strictString(u, "\(what).url") else { continue }
        if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
          error("\(what).url must start with http:// or https://, found '\(url)'", at: u)
          continue
        }
        out.append(MCPServer(name: name, transport: .http(url: url), timeoutMS: timeout ?? MCPServer.defaultTimeoutMS))
        continue
      }
      guard let c = m["command"] else {
        error("\(what) needs a command (an argument list) or a url", at: p.value)
        continue
      }
      let argv =
        c.scalar != nil ? string(c, "\(what).command").map { ["/bin/sh", "-c", $0] } : stringList(c, "\(what).command")
      guard let argv, !argv.isEmpty else {
        if argv != nil { error("\(what).command is an empty list", at: c) }
        continue
      }
      var env: [(name: String, value: String)] = []
      if let e = m["env"] {
        if let ep = e.mapping {
          for x in ep {
            if let v = string(x.value, "\(what).env.\(x.key.scalar?.text ?? "")") {
              env.append((x.key.scalar?.text ?? "", v))
            }
          }
        } else {
          error("\(what).env must be a map, found \(e.kindDescription)", at: e)
        }
      }
      let cwd = m["cwd"].flatMap { strictString($0, "\(what).cwd") }
      out.append(
        MCPServer(
          name: name, transport: .stdio(command: argv, env: env, cwd: cwd),
          timeoutMS: timeout ?? MCPServer.defaultTimeoutMS))
    }
    return out
  }
}
