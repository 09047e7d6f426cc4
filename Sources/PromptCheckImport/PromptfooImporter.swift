import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `promptcheck import promptfoo` (README "Coming from promptfoo"): a `promptfooconfig.yaml`
/// and the files it names, mapped onto a promptcheck project. Pure but for reading files.
package struct PromptfooImporter {
  /// The config's path as given (messages and the report use it) and its folder.
  let file: String
  let folder: String
  let read: (String) -> String?
  /// Files of a folder (for globs).
  let list: (String) -> [String]

  var plan: ImportPlan
  var providers: [(name: String, value: JSON)] = []
  var targets: [(name: String, value: JSON)] = []
  var providerParams: JSONObject?
  var grader: String?
  var jobs: Int?
  var repeatCount: Int?
  var copied: [(path: String, text: String)] = []
  var promptForPlainTests: String?
  var shims: Set<String> = []

  package init(file: String, read: @escaping (String) -> String?, list: @escaping (String) -> [String]) {
    self.file = file
    folder = (file as NSString).deletingLastPathComponent
    self.read = read
    self.list = list
    plan = ImportPlan(report: ImportReport(source: file))
  }

  static let dropped = ["redteam", "sharing", "extensions", "nunjucksFilters", "derivedMetrics", "outputPath"]
  static let ignored = [
    "description", "env", "tags", "metadata", "writeLatestResults", "commandLineOptions", "$schema",
  ]

  mutating func mapped(_ construct: String, _ node: YAMLNode, _ note: String = "") {
    plan.report.add(.mapped, construct, at: node.location, note)
  }
  mutating func approximated(_ construct: String, _ node: YAMLNode, _ note: String) {
    plan.report.add(.approximated, construct, at: node.location, note)
  }
  mutating func dropped(_ construct: String, _ node: YAMLNode, _ note: String) {
    plan.report.add(.dropped, construct, at: node.location, note)
  }
  mutating func error(_ message: String, _ node: YAMLNode?) {
    plan.errors.append(Diagnostic(message, at: node?.location ?? SourceLocation(file: file, line: 1, column: 1)))
  }

  // MARK: The whole config

  package static func importConfig(
    _ text: String, file: String, read: @escaping (String) -> String?, list: @escaping (String) -> [String]
  ) -> ImportPlan {
    var importer = PromptfooImporter(file: file, read: read, list: list)
    let lower = file.lowercased()
    if [".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"].contains(where: lower.hasSuffix) {
      importer.error(
        "a JavaScript or TypeScript config cannot be imported (it is a program, not data): write it out as promptfooconfig.yaml first, e.g. with `promptfoo eval --write-config`",
        nil)
      return importer.plan
    }
    let root: YAMLNode
    do {
      root = try YAMLParser.parse(text, file: file)
    } catch {
      importer.plan.errors.append(error)
      return importer.plan
    }
    importer.run(root)
    return importer.plan
  }

  mutating func run(_ root: YAMLNode) {
    guard let pairs = root.mapping else {
      error("a promptfoo config must be a map, found \(root.kindDescription)", root)
      return
    }
    var m: [String: YAMLNode] = [:]
    for p in pairs { m[p.key.scalar?.text ?? ""] = p.value }
    for p in pairs {
      let key = p.key.scalar?.text ?? ""
      if Self.dropped.contains(key) {
        dropped(key, p.key, "promptcheck has no \(key); left out")
      } else if !Self.ignored.contains(key)
        && ![
          "prompts", "providers", "targets", "defaultTest", "tests", "scenarios", "evaluateOptions",
          "assertionTemplates",
        ].contains(key)
      {
        dropped(key, p.key, "not a promptfoo key promptcheck knows")
      }
    }
    let templates = m["assertionTemplates"]?.mapping ?? []
    // Providers first: the tests' params and the grader name them.
    if let p = m["providers"] ?? m["targets"] { readProviders(p) }
    if let e = m["evaluateOptions"] { readEvaluateOptions(e) }
    var prompts: [Prompt] = []
    if let p = m["prompts"] { prompts = readPrompts(p) }
    if prompts.isEmpty, plan.errors.isEmpty { error("the config has no prompts", root) }
    var defaults = JSONObject()
    var defaultTransform: JSON?
    if let d = m["defaultTest"] {
      (defaults, defaultTransform) = readDefaultTest(d, templates: templates)
    }
    var tests: [JSON] = []
    if let t = m["tests"] { tests += readTests(t, templates: templates) }
    if let s = m["scenarios"] { tests += readScenarios(s, templates: templates) }
    tests = groupConversations(tests, prompts: prompts)
    guard plan.errors.isEmpty else { return }
    write(
      prompts: prompts, defaults: defaults, transform: defaultTransform, tests: tests, description: m["description"])
  }

  // MARK: Providers

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

  // MARK: Prompts

  enum Prompt {
    case text(label: String, text: String, file: String?)
    case chat(label: String, messages: JSON)
  }

  mutating func readPrompts(_ node: YAMLNode) -> [Prompt] {
    var out: [Prompt] = []
    // `{file://x.txt: label}`: promptfoo's map form (a map with raw or id is one prompt).
    if let pairs = node.mapping, !pairs.contains(where: { ["raw", "id"].contains($0.key.scalar?.text ?? "") }) {
      for p in pairs { out += prompt(p.key.scalar?.text ?? "", label: p.value.scalar?.text, at: p.key) }
      return out
    }
    let items = node.sequence ?? [node]
    for item in items {
      if let s = item.scalar?.text {
        out += prompt(s, label: nil, at: item)
      } else if let pairs = item.mapping {
        var raw: String?
        var id: String?
        var label: String?
        for p in pairs {
          switch p.key.scalar?.text {
          case "raw": raw = p.value.scalar?.text
          case "id": id = p.value.scalar?.text
          case "label": label = p.value.scalar?.text
          default: break
          }
        }
        if let raw {
          out += prompt(raw, label: label ?? id, at: item, inline: true)
        } else if let id {
          out += prompt(id, label: label, at: item)
        }
      }
    }
    return out
  }

  mutating func prompt(_ value: String, label: String?, at node: YAMLNode, inline: Bool = false) -> [Prompt] {
    guard !inline, value.hasPrefix("file://") else {
      let text = nunjucksChecked(value, at: node)
      mapped("prompt", node, "an inline prompt")
      return [.text(label: label ?? "", text: text, file: nil)]
    }
    let path = String(value.dropFirst(7))
    if path.contains("*") {
      let matches = glob(path)
      if matches.isEmpty { error("no file matches the prompt glob \(path)", node) }
      return matches.flatMap { prompt("file://" + $0, label: nil, at: node) }
    }
    let lower = path.lowercased()
    if lower.hasSuffix(".js") || lower.hasSuffix(".py") || lower.hasSuffix(".ts") || path.contains(".py:")
      || path.contains(".js:")
    {
      dropped("prompt \(value)", node, "a prompt function (a program); write its output as a prompt file")
      return []
    }
    guard let text = read(path) else {
      error("cannot read the prompt file \(path) (paths are relative to the config's folder)", node)
      return []
    }
    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    if lower.hasSuffix(".json") || lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
      guard let parsed = try? YAMLParser.parse(text, file: path), let list = parsed.sequence else {
        error("the prompt file \(path) is not a chat (a list of {role, content} messages)", node)
        return []
      }
      var messages: [JSON] = []
      for m in list {
        var o = m.json()
        if let content = o["content"]?.stringValue {
          o = .object(Self.with(o.objectValue ?? JSONObject(), "content", .string(nunjucksChecked(content, at: node))))
        }
        messages.append(o)
      }
      mapped("prompt \(value)", node, "a chat prompt: messages")
      return [.chat(label: label ?? stem, messages: .array(messages))]
    }
    // A text file may hold several prompts between `---` lines.
    let parts = text.components(separatedBy: "\n---\n")
    if parts.count > 1 {
      mapped("prompt \(value)", node, "\(parts.count) prompts separated by ---")
      return parts.enumerated().map { k, t in
        .text(label: "\(label ?? stem)-\(k + 1)", text: nunjucksChecked(t, at: node), file: nil)
      }
    }
    let checked = nunjucksChecked(text, at: node)
    let copy = (path as NSString).lastPathComponent
    copied.append((path: "prompts/\(copy)", text: checked))
    mapped("prompt \(value)", node, "prompt version \(label ?? stem) (file copied)")
    return [.text(label: label ?? stem, text: checked, file: copy)]
  }

  /// The text with Nunjucks reduced to promptcheck's `{{var}}`: a filter is dropped (said),
  /// a `{% %}` tag removed (said).
  mutating func nunjucksChecked(_ text: String, at node: YAMLNode) -> String {
    if text.contains("{%") {
      dropped("Nunjucks tag {% … %}", node, "promptcheck templates have no control flow; the tags were removed")
    }
    if text.range(of: #"\{\{[^}]*\|[^}]*\}\}"#, options: .regularExpression) != nil {
      approximated("Nunjucks filter", node, "{{ x | filter }} became {{x}}: the filter is not applied")
    }
    if text.contains("{{") && text.contains("env.") {
      approximated("{{ env.NAME }}", node, "promptcheck does not read the environment in a prompt; kept as a variable")
    }
    return Self.nunjucks(text)
  }

  static func nunjucks(_ text: String) -> String {
    // A loop's body goes with it (its variables are the loop's); other tags alone.
    var s = text.replacingOccurrences(
      of: #"\{%-?\s*for\b[\s\S]*?endfor\s*-?%\}"#, with: "", options: .regularExpression)
    s = s.replacingOccurrences(of: #"\{%-?[^%]*-?%\}\n?"#, with: "", options: .regularExpression)
    s = s.replacingOccurrences(
      of: #"\{\{-?\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(\|[^}]*)?-?\}\}"#, with: "{{$1}}", options: .regularExpression)
    return s
  }

  static func rendered(_ j: JSON) -> JSON {
    switch j {
    case .string(let s): return .string(nunjucks(s))
    case .array(let a): return .array(a.map(rendered))
    case .object(let o): return .object(JSONObject(o.members.map { ($0.key, rendered($0.value)) }))
    default: return j
    }
  }

  // MARK: Tests

  mutating func readDefaultTest(_ node: YAMLNode, templates: [YAMLNode.Pair]) -> (JSONObject, JSON?) {
    var d = JSONObject()
    var transform: JSON?
    for p in node.mapping ?? [] {
      switch p.key.scalar?.text {
      case "vars":
        d["vars"] = Self.vars(p.value)
        mapped("defaultTest.vars", p.value, "defaults.vars")
      case "assert":
        d["assert"] = assertions(p.value, templates: templates)
      case "options":
        for o in p.value.mapping ?? [] {
          switch o.key.scalar?.text {
          case "provider":
            let id = o.value.scalar?.text ?? o.value.mapping?.first { $0.key.scalar?.text == "id" }?.value.scalar?.text
            if let id {
              readProvider(
                id: id, label: "grader", config: o.value.mapping?.first { $0.key.scalar?.text == "config" }?.value,
                at: o.value)
              if providers.last?.name.hasPrefix("grader") == true {
                grader = providers.last?.name
                mapped("defaultTest.options.provider", o.value, "grader: \(grader ?? "")")
              }
            }
          case "transform":
            transform = transformJSON(o.value)
          default:
            dropped("defaultTest.options.\(o.key.scalar?.text ?? "")", o.key, "no promptcheck option")
          }
        }
      case "threshold":
        d["threshold"] = p.value.json()
        mapped("defaultTest.threshold", p.value, "threshold")
      default:
        dropped("defaultTest.\(p.key.scalar?.text ?? "")", p.key, "no promptcheck default")
      }
    }
    return (d, transform)
  }

  mutating func transformJSON(_ node: YAMLNode) -> JSON? {
    let text = (node.scalar?.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    if text == "output.trim()" {
      mapped("transform", node, "trim")
      return "trim"
    }
    if let path = Self.jsonPath(fromJS: text, root: "JSON.parse(output)") {
      mapped("transform", node, "{json-path: \(path)}")
      return ["json-path": .string(path)]
    }
    dropped("transform", node, "a JavaScript transform; the output is checked as it is")
    return nil
  }

  /// `json.a.b[0].c` (after `root`) as `$.a.b[0].c`; nil when it is more than a property path.
  static func jsonPath(fromJS text: String, root: String) -> String? {
    let t = text.trimmingCharacters(in: .whitespaces)
    guard t.hasPrefix(root) else { return nil }
    let rest = t.dropFirst(root.count)
    guard rest.range(of: #"^(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*$"#, options: .regularExpression) != nil else {
      return nil
    }
    return "$" + rest
  }

  mutating func readTests(_ node: YAMLNode, templates: [YAMLNode.Pair]) -> [JSON] {
    if let s = node.scalar?.text { return testsFromFile(s, at: node, templates: templates) }
    var out: [JSON] = []
    for item in node.sequence ?? [] {
      if let s = item.scalar?.text {
        out += testsFromFile(s, at: item, templates: templates)
      } else {
        out.append(test(item, templates: templates))
      }
    }
    return out
  }

  mutating func testsFromFile(_ ref: String, at node: YAMLNode, templates: [YAMLNode.Pair]) -> [JSON] {
    guard ref.hasPrefix("file://") else {
      dropped("tests \(ref)", node, "only file:// test files can be imported")
      return []
    }
    let path = String(ref.dropFirst(7))
    if path.contains("*") {
      let matches = glob(path)
      if matches.isEmpty { error("no file matches the tests glob \(path)", node) }
      return matches.flatMap { testsFromFile("file://" + $0, at: node, templates: templates) }
    }
    let lower = path.lowercased()
    if lower.hasSuffix(".js") || lower.hasSuffix(".py") || lower.hasSuffix(".ts") {
      dropped("tests \(ref)", node, "tests made by a program; write them out as a YAML, CSV or JSONL file")
      return []
    }
    guard let text = read(path) else {
      error("cannot read the tests file \(path) (paths are relative to the config's folder)", node)
      return []
    }
    if lower.hasSuffix(".csv") || lower.hasSuffix(".jsonl") {
      switch Dataset.parse(text, file: path) {
      case .failure(let e):
        error("\(path):\(e.line): \(e.message)", node)
        return []
      case .success(let rows):
        mapped("tests \(ref)", node, "\(rows.count) tests, one per row")
        return rows.map { row in csvTest(row, path: path, templates: templates) }
      }
    }
    guard let parsed = try? YAMLParser.parse(text, file: path) else {
      error("the tests file \(path) is not YAML or JSON", node)
      return []
    }
    mapped("tests \(ref)", node, "tests read from the file")
    return (parsed.sequence ?? [parsed]).map { test($0, templates: templates) }
  }

  mutating func csvTest(_ row: Dataset.Row, path: String, templates: [YAMLNode.Pair]) -> JSON {
    let at = YAMLNode(.scalar("", .plain), at: SourceLocation(file: path, line: row.line, column: 1))
    var t = JSONObject()
    var vars = JSONObject()
    var asserts: [JSON] = []
    var metric: String?
    for (k, v) in row.vars {
      switch k {
      case "__description": t["name"] = .string(v)
      case "__metric": metric = v
      case "__threshold": t["threshold"] = Double(v).map(JSON.double) ?? .string(v)
      case _ where k.hasPrefix("__expected"):
        if !v.isEmpty, let a = expectedColumn(v, at: at) { asserts.append(a) }
      case _ where k.hasPrefix("__"):
        dropped("column \(k)", at, "no promptcheck equivalent")
      default:
        // The row's JSON values (JSONL) come as their JSON text.
        vars[k] = .string(v)
      }
    }
    if let metric {
      asserts = asserts.map { a in .object(Self.with(a.objectValue ?? JSONObject(), "metric", .string(metric))) }
    }
    if !vars.members.isEmpty { t["vars"] = .object(vars) }
    if !asserts.isEmpty { t["assert"] = .array(asserts) }
    t["_line"] = .int(row.line)
    return .object(t)
  }

  /// `__expected`: `contains: x`, `icontains: x`, `regex: …`, `grade: …`, `similar(0.8): …`, …; else equals.
  mutating func expectedColumn(_ v: String, at node: YAMLNode) -> JSON? {
    let known: [(String, String)] = [
      ("not-contains:", "not-contains"), ("contains-any:", "contains-any"), ("contains-all:", "contains-all"),
      ("icontains-any:", "icontains-any"), ("icontains-all:", "icontains-all"), ("icontains:", "icontains"),
      ("contains:", "contains"), ("not-regex:", "not-regex"), ("regex:", "regex"), ("starts-with:", "starts-with"),
      ("grade:", "llm-rubric"), ("llm-rubric:", "llm-rubric"), ("equals:", "equals"),
    ]
    for (prefix, kind) in known where v.hasPrefix(prefix) {
      let rest = v.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
      mapped("__expected \(prefix)", node, kind)
      if kind.hasSuffix("-any") || kind.hasSuffix("-all") {
        return [kind: .array(rest.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })]
      }
      return [kind: .string(rest)]
    }
    if v == "is-json" {
      mapped("__expected is-json", node, "is-json")
      return ["is-json": true]
    }
    if v.hasPrefix("similar") {
      var threshold = 0.75
      var text = String(v.dropFirst("similar".count))
      if text.hasPrefix("("), let close = text.firstIndex(of: ")") {
        threshold = Double(text[text.index(after: text.startIndex)..<close]) ?? threshold
        text = String(text[text.index(after: close)...])
      }
      text = text.hasPrefix(":") ? String(text.dropFirst()).trimmingCharacters(in: .whitespaces) : text
      mapped("__expected similar", node, "similar, threshold \(threshold)")
      return ["similar": ["value": .string(text), "threshold": .double(threshold)]]
    }
    if v.hasPrefix("javascript:") || v.hasPrefix("fn:") || v.hasPrefix("python:") {
      dropped("__expected \(v.prefix(12))…", node, "a code assertion in a CSV column; write it in the config")
      return nil
    }
    mapped("__expected", node, "equals")
    return ["equals": .string(v)]
  }

  mutating func test(_ node: YAMLNode, templates: [YAMLNode.Pair]) -> JSON {
    var t = JSONObject()
    t["_line"] = .int(node.location.line)
    for p in node.mapping ?? [] {
      let key = p.key.scalar?.text ?? ""
      switch key {
      case "description": t["name"] = .string(p.value.scalar?.text ?? "")
      case "vars": t["vars"] = Self.vars(p.value)
      case "assert":
        let list = assertions(p.value, templates: templates)
        if list.arrayValue?.isEmpty == false { t["assert"] = list }
      case "threshold":
        t["threshold"] = p.value.json()
        mapped("threshold", p.value, "threshold")
      case "options":
        for o in p.value.mapping ?? [] {
          if o.key.scalar?.text == "transform", let tr = transformJSON(o.value) {
            t["transform"] = tr
          } else {
            dropped("options.\(o.key.scalar?.text ?? "")", o.key, "no promptcheck test option")
          }
        }
      case "metadata":
        for mp in p.value.mapping ?? [] where mp.key.scalar?.text == "conversationId" {
          t["_conversation"] = .string(mp.value.scalar?.text ?? "")
        }
      case "providers":
        dropped("providers of a test", p.key, "every test runs on every target")
      default:
        dropped(key, p.key, "no promptcheck test key")
      }
    }
    return .object(t)
  }

  mutating func readScenarios(_ node: YAMLNode, templates: [YAMLNode.Pair]) -> [JSON] {
    var out: [JSON] = []
    for s in node.sequence ?? [] {
      var configs: [JSON] = []
      var tests: [JSON] = []
      var description: String?
      for p in s.mapping ?? [] {
        switch p.key.scalar?.text {
        case "config":
          configs = (p.value.sequence ?? []).map {
            $0.mapping?.first { $0.key.scalar?.text == "vars" }.map { Self.vars($0.value) } ?? [:]
          }
        case "tests": tests = readTests(p.value, templates: templates)
        case "description": description = p.value.scalar?.text
        default: break
        }
      }
      mapped("scenario", s, "\(max(configs.count, 1)) × \(tests.count) tests")
      for (k, cfg) in (configs.isEmpty ? [JSON.object(JSONObject())] : configs).enumerated() {
        for t in tests {
          var o = t.objectValue ?? JSONObject()
          var vars = cfg.objectValue ?? JSONObject()
          for (vk, vv) in o["vars"]?.objectValue?.members ?? [] { vars[vk] = vv }
          o["vars"] = .object(vars)
          let base = o["name"]?.stringValue ?? description ?? "scenario"
          o["name"] = .string("\(base) (config \(k + 1))")
          out.append(.object(o))
        }
      }
    }
    return out
  }

  static func vars(_ node: YAMLNode) -> JSON {
    var o = JSONObject()
    for p in node.mapping ?? [] {
      let v = p.value.json()
      o[p.key.scalar?.text ?? ""] = v.stringValue.map { .string($0) } ?? (v == .null ? "" : .string(v.serialized()))
    }
    return .object(o)
  }

  // MARK: Assertions

  static let sameKinds = [
    "equals", "contains", "icontains", "contains-any", "contains-all", "icontains-any", "icontains-all", "starts-with",
    "regex", "is-json", "contains-json",
  ]
  static let graded = [
    "factuality": "The output is factually consistent with this reference answer: ",
    "model-graded-closedqa": "The output meets this criterion: ",
    "g-eval": "The output meets these criteria: ",
    "answer-relevance": "The output is relevant to the question it answers and answers it. ",
    "context-faithfulness": "The output is faithful to the given context. ",
    "model-graded-factuality": "The output is factually consistent with this reference answer: ",
  ]

  /// A list of assertions; an `assert-set` written out in place adds its members.
  mutating func assertions(_ node: YAMLNode, templates: [YAMLNode.Pair]) -> JSON {
    var out: [JSON] = []
    for item in node.sequence ?? [] {
      switch assertion(item, templates: templates) {
      case .array(let members)?: out += members
      case let a?: out.append(a)
      case nil: break
      }
    }
    return .array(out)
  }

  mutating func assertion(_ node: YAMLNode, templates: [YAMLNode.Pair]) -> JSON? {
    var m: [String: YAMLNode] = [:]
    for p in node.mapping ?? [] { m[p.key.scalar?.text ?? ""] = p.value }
    if let ref = m["$ref"]?.scalar?.text {
      let name = ref.components(separatedBy: "/").last ?? ref
      guard let template = templates.first(where: { $0.key.scalar?.text == name }) else {
        error("$ref \(ref) names no assertionTemplates entry", node)
        return nil
      }
      mapped("$ref \(ref)", node, "the template written in place")
      return assertion(template.value, templates: templates)
    }
    guard let typeNode = m["type"], var type = typeNode.scalar?.text else {
      dropped("assertion", node, "no type")
      return nil
    }
    let negated = type.hasPrefix("not-")
    if negated { type = String(type.dropFirst(4)) }
    let value = m["value"]
    var out = JSONObject()
    func put(_ kind: String, _ v: JSON) { out[(negated ? "not-" : "") + kind] = v }
    let shown = (negated ? "not-" : "") + type
    switch type {
    case _ where Self.sameKinds.contains(type):
      var v = value.map { Self.rendered($0.json()) } ?? (type.hasSuffix("json") ? .bool(true) : .null)
      if (type == "is-json" || type == "contains-json"), v == .null { v = true }
      put(type, v)
      mapped(shown, typeNode)
    case "latency":
      put("max-latency-ms", m["threshold"]?.json() ?? value?.json() ?? 0)
      mapped(shown, typeNode, "max-latency-ms")
    case "cost":
      put("max-cost", m["threshold"]?.json() ?? value?.json() ?? 0)
      mapped(shown, typeNode, "max-cost")
    case "levenshtein":
      put("levenshtein", ["value": value?.json() ?? "", "max": m["threshold"]?.json() ?? 5])
      mapped(shown, typeNode, "levenshtein {value, max}")
    case "word-count":
      put("word-count", value?.json() ?? 0)
      mapped(shown, typeNode)
    case "similar":
      var s = JSONObject()
      s["value"] = value?.json() ?? ""
      s["threshold"] = m["threshold"]?.json() ?? 0.75
      put("similar", .object(s))
      mapped(shown, typeNode, "similar (promptfoo's default threshold 0.75)")
    case "llm-rubric":
      var r = JSONObject()
      r["rubric"] = Self.rendered(value?.json() ?? "")
      if let t = m["threshold"] { r["threshold"] = t.json() }
      put("llm-rubric", .object(r))
      mapped(shown, typeNode)
    case _ where Self.graded[type] != nil:
      let text =
        (Self.graded[type] ?? "") + (value.map { Self.nunjucks($0.scalar?.text ?? $0.json().serialized()) } ?? "")
      var r = JSONObject()
      r["rubric"] = .string(text.trimmingCharacters(in: .whitespaces))
      if let t = m["threshold"] { r["threshold"] = t.json() }
      put("llm-rubric", .object(r))
      approximated(shown, typeNode, "llm-rubric with the rubric written out: \(text.prefix(80))")
    case "is-valid-openai-tools-call":
      let names = (providerParams?["tools"]?.arrayValue ?? []).compactMap { $0["function"]?["name"]?.stringValue }
      if names.isEmpty {
        put("finish-reason", "tool_calls")
        approximated(
          shown, typeNode, "finish-reason: tool_calls (the provider offers no tools to check the call against)")
      } else {
        put("any-of", .array(names.map { ["tool-call": ["name": .string($0)]] }))
        approximated(
          shown, typeNode,
          "any-of tool-call of the offered tools: the call's arguments are not checked against their schema")
      }
    case "python":
      let code = value?.scalar?.text ?? ""
      shims.insert("python")
      if code.hasPrefix("file://") {
        let path = String(code.dropFirst(7))
        copyFile(path.split(separator: ":").first.map(String.init) ?? path, at: typeNode)
        put("exec", .array(["python3", "prompts/promptfoo_assert_shim.py", "--file", .string("prompts/" + path)]))
      } else {
        put("exec", .array(["python3", "prompts/promptfoo_assert_shim.py", "--code", .string(code)]))
      }
      mapped(shown, typeNode, "exec through promptfoo_assert_shim.py (get_assert(output, context))")
    case "javascript":
      let code = value?.scalar?.text ?? ""
      if Self.nodeAvailable {
        shims.insert("javascript")
        put("exec", .array(["node", "prompts/promptfoo_assert_shim.js", .string(code)]))
        mapped(shown, typeNode, "exec under node through promptfoo_assert_shim.js")
      } else {
        dropped(shown, typeNode, "node is not on PATH: install Node.js and import again")
        return nil
      }
    case "assert-set":
      let members = (m["assert"]?.sequence ?? []).compactMap { assertion($0, templates: templates) }
      if m["threshold"] == nil, !negated {
        mapped(shown, typeNode, "its assertions written out (all must pass)")
        return .array(members)
      }
      put("any-of", .array(members))
      approximated(shown, typeNode, "any-of its assertions (promptfoo passes it at a share of them; any-of at one)")
    default:
      dropped(shown, typeNode, "no promptcheck assertion does this")
      return nil
    }
    if let w = m["weight"] {
      out["weight"] = w.json()
      mapped("weight", w)
    }
    if let metric = m["metric"] {
      out["metric"] = metric.json()
      mapped("metric", metric)
    }
    if let t = m["transform"], let tr = transformJSON(t) { out["transform"] = tr }
    if let p = m["provider"] { dropped("provider of an assertion", p, "the config's grader judges every rubric") }
    return .object(out)
  }

  static let nodeAvailable: Bool = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/node") }
  }()

  // MARK: Conversations

  /// Tests with the same `metadata.conversationId`, in order, become one test of turns.
  mutating func groupConversations(_ tests: [JSON], prompts: [Prompt]) -> [JSON] {
    var out: [JSON] = []
    var byID: [String: Int] = [:]
    for t in tests {
      guard let id = t["_conversation"]?.stringValue, case .text(_, let template, _)? = prompts.first else {
        out.append(t)
        continue
      }
      var vars: [String: String] = [:]
      for (k, v) in t["vars"]?.objectValue?.members ?? [] { vars[k] = v.stringValue ?? "" }
      var user = template
      for (k, v) in vars { user = user.replacingOccurrences(of: "{{\(k)}}", with: v) }
      var turn = JSONObject()
      turn["user"] = .string(
        user.replacingOccurrences(of: "{{_conversation}}", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
      if let a = t["assert"] { turn["assert"] = a }
      if let i = byID[id], case .object(var o) = out[i] {
        o["turns"] = .array((o["turns"]?.arrayValue ?? []) + [.object(turn)])
        out[i] = .object(o)
      } else {
        byID[id] = out.count
        out.append([
          "name": .string("conversation \(id)"), "turns": [.object(turn)], "_line": t["_line"] ?? 1, "_chat": true,
        ])
        plan.report.add(
          .approximated, "metadata.conversationId \(id)",
          at: SourceLocation(file: file, line: { if case .int(let l)? = t["_line"] { l } else { 1 } }(), column: 1),
          "one test of turns, each turn the prompt with that test's vars ({{_conversation}} removed: promptcheck sends the history itself)"
        )
      }
    }
    return out
  }

  // MARK: Writing

  mutating func write(prompts: [Prompt], defaults: JSONObject, transform: JSON?, tests: [JSON], description: YAMLNode?)
  {
    var config = JSONObject()
    config["tests_dir"] = "prompts"
    config["expectations_dir"] = "expectations"
    if !providers.isEmpty {
      config["providers"] = .object(JSONObject(providers.map { ($0.name, $0.value) }))
      if let first = providers.first(where: { !$0.name.hasPrefix("grader") }) {
        config["default_provider"] = .string(first.name)
      }
    }
    if let grader { config["grader"] = ["provider": .string(grader)] }
    if let jobs { config["jobs"] = .int(jobs) }
    if !targets.isEmpty { config["targets"] = .object(JSONObject(targets.map { ($0.name, $0.value) })) }
    let modelProviders = providers.filter { !$0.name.hasPrefix("grader") }.map(\.name)
    // Suites: the text prompts together (as versions), each chat prompt apart; per app target, again.
    var suites: [(name: String, suite: JSONObject)] = []
    let texts = prompts.compactMap { p -> (String, String, String?)? in
      if case .text(let l, let t, let f) = p { (l, t, f) } else { nil }
    }
    let chats = prompts.compactMap { p -> (String, JSON)? in if case .chat(let l, let m) = p { (l, m) } else { nil } }
    let answerers: [(String?, String?)] =
      (modelProviders.isEmpty ? [] : [(nil as String?, nil as String?)]) + targets.map { (nil, $0.name) }
    let base = Self.slug(description?.scalar?.text ?? "imported", taken: [])
    for (_, target) in answerers.isEmpty ? [(nil, nil)] : answerers {
      let suffix = target.map { "-\($0)" } ?? ""
      if !texts.isEmpty {
        var s = suiteHead(description: description, target: target, providers: modelProviders)
        var d = defaults
        let conversations = tests.contains { $0["turns"] != nil }
        if texts.count == 1, texts[0].2 == nil, !conversations {
          d["prompt"] = .string(texts[0].1)
        } else if texts.count == 1, texts[0].2 == nil {
          // A conversation's turns are its user messages: the prompt goes to the other tests only.
          promptForPlainTests = texts[0].1
        } else {
          var versions = JSONObject()
          var taken: [String] = []
          for (k, (label, text, file)) in texts.enumerated() {
            let name = Self.slug(label.isEmpty ? "prompt-\(k + 1)" : label, taken: taken)
            taken.append(name)
            versions[name] = file.map { .string($0) } ?? ["raw": .string(text)]
          }
          s["prompts"] = .object(versions)
        }
        s["defaults"] = .object(defaultsWithParams(d, transform: transform))
        s["tests"] = .array(finalTests(tests, chat: false))
        suites.append((base + suffix, s))
      }
      for (label, messages) in chats {
        var s = suiteHead(description: description, target: target, providers: modelProviders)
        var d = defaults
        d["messages"] = messages
        s["defaults"] = .object(defaultsWithParams(d, transform: transform))
        s["tests"] = .array(finalTests(tests, chat: true))
        suites.append((Self.slug(label, taken: suites.map(\.name)) + suffix, s))
      }
    }
    do {
      plan.files.append(
        (
          "promptcheck.yaml",
          "# Imported from \(file) by promptcheck import promptfoo.\n" + (try YAMLEmitter.emit(.object(config)))
        ))
      for (name, s) in suites {
        plan.files.append(
          (
            "prompts/\(name).yaml",
            "# Imported from \(file); see import-report.json.\n" + (try YAMLEmitter.emit(.object(s)))
          ))
      }
    } catch {
      self.error("the imported files could not be written as YAML: \(error)", nil)
    }
    plan.files += copied
    if shims.contains("python") { plan.files.append(("prompts/promptfoo_assert_shim.py", Shims.pythonAssert)) }
    if shims.contains("javascript") { plan.files.append(("prompts/promptfoo_assert_shim.js", Shims.javascriptAssert)) }
    if shims.contains("provider") { plan.files.append(("promptfoo_provider_shim.py", Shims.pythonProvider)) }
  }

  func suiteHead(description: YAMLNode?, target: String?, providers: [String]) -> JSONObject {
    var s = JSONObject()
    if let d = description?.scalar?.text { s["description"] = .string(d) }
    if let target {
      s["target"] = .string(target)
    } else if providers.count > 1 {
      s["providers"] = .array(providers.map(JSON.string))
    }
    return s
  }

  func defaultsWithParams(_ d: JSONObject, transform: JSON?) -> JSONObject {
    var d = d
    if let providerParams { d["params"] = .object(providerParams) }
    if let transform { d["transform"] = transform }
    return d
  }

  /// Each test with a unique name and its repeat; the importer's own markers removed.
  func finalTests(_ tests: [JSON], chat: Bool) -> [JSON] {
    var taken = Set<String>()
    return tests.enumerated().map { k, t in
      let o = t.objectValue ?? JSONObject()
      var name = o["name"]?.stringValue ?? "test \(k + 1)"
      if taken.contains(slugify(name)) || slugify(name).isEmpty { name += " \(k + 1)" }
      taken.insert(slugify(name))
      var out = JSONObject()
      out["name"] = .string(name)
      if o["turns"] == nil, let p = promptForPlainTests { out["prompt"] = .string(p) }
      for key in ["vars", "turns", "threshold", "transform", "assert"] where o[key] != nil { out[key] = o[key] }
      if let n = repeatCount { out["repeat"] = .int(n) }
      return .object(out)
    }
  }

  // MARK: Files

  mutating func copyFile(_ path: String, at node: YAMLNode) {
    guard let text = read(path) else {
      error("cannot read \(path) (paths are relative to the config's folder)", node)
      return
    }
    copied.append(("prompts/" + path, text))
  }

  /// The files matching a glob like `tests/*.yaml` (one `*` in the last part), sorted.
  func glob(_ pattern: String) -> [String] {
    let dir = (pattern as NSString).deletingLastPathComponent
    let name = (pattern as NSString).lastPathComponent
    let parts = name.components(separatedBy: "*")
    return list(dir).filter { f in
      guard f.hasPrefix(parts.first ?? ""), f.hasSuffix(parts.last ?? "") else { return false }
      return f.count >= (parts.first?.count ?? 0) + (parts.last?.count ?? 0)
    }.sorted().map { dir.isEmpty ? $0 : dir + "/" + $0 }
  }

  static func environmentReference(_ value: String) -> String? {
    let t = value.trimmingCharacters(in: .whitespaces)
    for (open, close) in [("{{ env.", " }}"), ("{{env.", "}}"), ("${", "}"), ("$", "")]
    where t.hasPrefix(open) && t.hasSuffix(close) {
      let name = String(t.dropFirst(open.count).dropLast(close.count)).trimmingCharacters(in: .whitespaces)
      if !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) { return name }
    }
    return nil
  }

  static func slug(_ text: String, taken: [String]) -> String {
    var s = slugify(text)
    if s.isEmpty { s = "p" }
    if s.unicodeScalars.count > 40 { s = String(String.UnicodeScalarView(s.unicodeScalars.prefix(40))) }
    var out = s
    var n = 2
    while taken.contains(out) {
      out = "\(s)-\(n)"
      n += 1
    }
    return out
  }

  static func with(_ o: JSONObject, _ key: String, _ value: JSON) -> JSONObject {
    var o = o
    o[key] = value
    return o
  }
}
