import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: providers (README "Coming from promptfoo").
extension PromptfooImporter {

  struct ProviderMapping {
    var baseURL: String
    var keyEnv: String?
    var model: String
  }

  mutating func readProviders(_ node: YAMLNode) {
    let items = node.sequence ?? [node]
    for item in items {
      var id: String?
      var label: String?
      var config: YAMLNode?
      if let s = item.scalar?.text {
        id = s
      } else if let pairs = item.mapping {
        for p in pairs {
          switch p.key.scalar?.text {
          case "id": id = p.value.scalar?.text
          case "label": label = p.value.scalar?.text
          case "config": config = p.value
          default: break
          }
        }
        // `{"openai:gpt-4": {config}}`: the id as the only key.
        if id == nil, pairs.count == 1, let k = pairs[0].key.scalar?.text {
          id = k
          config = pairs[0].value.mapping?.first { $0.key.scalar?.text == "config" }?.value ?? pairs[0].value
        }
      }
      guard let id else {
        dropped("provider", item, "no id")
        continue
      }
      readProvider(id: id, label: label, config: config, at: item)
    }
    if providers.count > 1, let params = providerParams {
      approximated(
        "provider config", node,
        "promptcheck's params are per test: \(params.members.map(\.key).joined(separator: ", ")) of one provider go to every target"
      )
    }
  }

  static func openAICompatible(_ id: String) -> ProviderMapping? {
    let parts = id.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    guard parts.count >= 2 else { return nil }
    var model =
      parts.count == 3 && ["chat", "completion", "responses"].contains(parts[1])
      ? parts[2] : parts.dropFirst().joined(separator: ":")
    if model.isEmpty { model = "default" }
    switch parts[0] {
    case "openai": return ProviderMapping(baseURL: "https://api.openai.com/v1", keyEnv: "OPENAI_API_KEY", model: model)
    case "openrouter":
      return ProviderMapping(baseURL: "https://openrouter.ai/api/v1", keyEnv: "OPENROUTER_API_KEY", model: model)
    case "ollama": return ProviderMapping(baseURL: "http://localhost:11434/v1", keyEnv: nil, model: model)
    case "localai": return ProviderMapping(baseURL: "http://localhost:8080/v1", keyEnv: nil, model: model)
    case "vllm": return ProviderMapping(baseURL: "http://localhost:8000/v1", keyEnv: nil, model: model)
    case "groq": return ProviderMapping(baseURL: "https://api.groq.com/openai/v1", keyEnv: "GROQ_API_KEY", model: model)
    case "togetherai":
      return ProviderMapping(baseURL: "https://api.together.xyz/v1", keyEnv: "TOGETHER_API_KEY", model: model)
    default: return nil
    }
  }

  static let passedParams = [
    "temperature", "max_tokens", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty", "response_format",
    "tools", "tool_choice", "max_completion_tokens",
  ]

  mutating func readProvider(id: String, label: String?, config: YAMLNode?, at item: YAMLNode) {
    let name = Self.slug(label ?? id, taken: providers.map(\.name) + targets.map(\.name))
    var cfg: [String: YAMLNode] = [:]
    for p in config?.mapping ?? [] { cfg[p.key.scalar?.text ?? ""] = p.value }
    if id == "echo" {
      targets.append((name, ["command": ["run": "cat", "stdin": "{{prompt}}"]]))
      mapped("provider echo", item, "a command target that answers the prompt (`cat`)")
      return
    }
    if id.hasPrefix("http://") || id.hasPrefix("https://") || id == "http" || id == "https" {
      readHTTPProvider(id: id, name: name, cfg: cfg, at: item)
      return
    }
    if id.hasPrefix("exec:") {
      let command = String(id.dropFirst(5)).trimmingCharacters(in: .whitespaces)
      targets.append((name, ["command": ["run": .string(command), "stdin": "{{prompt}}"]]))
      approximated(
        "provider \(id)", item, "a command target: the prompt goes on its standard input, not as its first argument")
      return
    }
    if id.hasPrefix("file://") && id.hasSuffix(".py") || id.hasPrefix("python:") {
      let path = id.hasPrefix("python:") ? String(id.dropFirst(7)) : String(id.dropFirst(7))
      let script = path.split(separator: ":").first.map(String.init) ?? path
      copyFile(script, at: item)
      shims.insert("provider")
      targets.append(
        (
          name,
          [
            "command": [
              "run": .array(["python3", "promptfoo_provider_shim.py", .string(script)]),
              "stdin": "{\"prompt\": {{messages_json}}, \"vars\": {}}", "output": "json", "response": "$.output",
            ]
          ]
        ))
      mapped(
        "provider \(id)", item,
        "a command target running call_api(prompt, options, context) through promptfoo_provider_shim.py")
      return
    }
    guard var p = Self.openAICompatible(id) else {
      dropped(
        "provider \(id)", item,
        "not OpenAI-compatible; promptcheck calls OpenAI-compatible APIs (OpenRouter serves most models)")
      return
    }
    if let base = cfg["apiBaseUrl"] ?? cfg["apiHost"], let url = base.scalar?.text {
      p.baseURL = url.hasPrefix("http") ? url : "https://\(url)"
      mapped("config.apiBaseUrl", base, "base_url")
    }
    if let key = cfg["apiKey"], let value = key.scalar?.text {
      if let env = Self.environmentReference(value) {
        p.keyEnv = env
        mapped("config.apiKey", key, "api_key_env: \(env)")
      } else {
        error(
          "provider \(id) holds an API key in the config: promptcheck never writes a key to a file. Put it in an environment variable and name it with apiKeyEnvar (or apiKey: '{{ env.NAME }}'), then import again",
          key)
      }
    }
    if let e = cfg["apiKeyEnvar"]?.scalar?.text { p.keyEnv = e }
    var o = JSONObject()
    o["base_url"] = .string(p.baseURL)
    if let k = p.keyEnv { o["api_key_env"] = .string(k) }
    o["model"] = .string(p.model)
    providers.append((name, .object(o)))
    mapped("provider \(id)", item, "provider \(name): \(p.baseURL), model \(p.model)")
    var params = JSONObject()
    for (k, v) in (config?.mapping ?? []).map({ ($0.key.scalar?.text ?? "", $0.value) }) {
      if Self.passedParams.contains(k) {
        params[k] = v.json()
      } else if !["apiBaseUrl", "apiHost", "apiKey", "apiKeyEnvar"].contains(k) {
        dropped("config.\(k)", v, "not a request parameter promptcheck sends")
      }
    }
    if !params.members.isEmpty {
      if providerParams == nil {
        providerParams = params
        mapped("config of \(id)", item, "params: \(params.members.map(\.key).joined(separator: ", "))")
      }
    }
  }

  mutating func readHTTPProvider(id: String, name: String, cfg: [String: YAMLNode], at item: YAMLNode) {
    let url = cfg["url"]?.scalar?.text ?? id
    var http = JSONObject()
    http["url"] = .string(Self.nunjucks(url))
    if let m = cfg["method"]?.scalar?.text { http["method"] = .string(m.uppercased()) }
    if let h = cfg["headers"] {
      http["headers"] = Self.rendered(h.json())
    }
    if let b = cfg["body"] { http["body"] = Self.rendered(b.json()) }
    if let t = cfg["transformResponse"] {
      if let text = t.scalar?.text, let path = Self.jsonPath(fromJS: text, root: "json") {
        http["response"] = .string(path)
        mapped("transformResponse", t, "response: \(path)")
      } else {
        dropped(
          "transformResponse", t, "a JavaScript transform; the whole body is the answer (set response: to a JSON path)")
      }
    }
    targets.append((name, ["http": .object(http)]))
    mapped("provider \(id)", item, "an http target")
  }

  mutating func readEvaluateOptions(_ node: YAMLNode) {
    for p in node.mapping ?? [] {
      switch p.key.scalar?.text {
      case "repeat":
        if case .int(let n)? = p.value.resolved, n > 1 {
          repeatCount = n
          mapped("evaluateOptions.repeat", p.value, "repeat: \(n) on every test")
        }
      case "maxConcurrency":
        if case .int(let n)? = p.value.resolved {
          jobs = n
          mapped("evaluateOptions.maxConcurrency", p.value, "jobs: \(n)")
        }
      default:
        dropped("evaluateOptions.\(p.key.scalar?.text ?? "")", p.key, "no promptcheck setting")
      }
    }
  }
}
