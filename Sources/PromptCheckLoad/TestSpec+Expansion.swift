import Foundation
import PromptCheckCore

/// One variant's place in a test's expansion: its matrix values (with the dataset row and the
/// prompt version as `row`/`prompt` entries), the row's vars and the prompt version.
struct Dimension {
  var combination: [(key: String, value: String)]
  var rowVars: [(key: String, value: String)]
  var version: Int?
}

extension Loader {
  /// One variant per matrix combination × dataset row × prompt version × target; every one is
  /// rendered and checked, until one has a problem (later ones differ only in values).
  mutating func variants(of spec: TestSpec, errorsBefore: Int) -> [TestVariant] {
    var variants: [TestVariant] = []
    for dimension in Self.dimensions(of: spec) {
      variants += self.variants(of: spec, at: dimension)
      if r.sink.diagnostics.count > errorsBefore { break }
    }
    return variants
  }

  static func dimensions(of spec: TestSpec) -> [Dimension] {
    var dimensions: [Dimension] = []
    for combination in matrixCombinations(spec.matrix) {
      for row in spec.data.rows.isEmpty ? [nil] : spec.data.rows.map(Optional.some) {
        for v in spec.versions.isEmpty ? [nil] : Array(spec.versions.indices).map(Optional.some) {
          var c = combination
          if let row { c.append(("row", "\(spec.data.name):\(row.line)")) }
          if let v { c.append(("prompt", spec.versions[v].name)) }
          dimensions.append(Dimension(combination: c, rowVars: row?.vars ?? [], version: v))
        }
      }
    }
    return dimensions
  }

  /// The variants of one dimension (one per target): templates rendered with its vars.
  mutating func variants(of spec: TestSpec, at dimension: Dimension) -> [TestVariant] {
    var caseVars = spec.vars
    for (k, v) in dimension.rowVars { caseVars[k] = v }
    for (k, v) in dimension.combination where k != "row" && k != "prompt" { caseVars[k] = v }
    var problems: [(Template.Problem, SourceLocation)] = []
    var cache = fileCache
    let read = readFile
    let vars = caseVars
    let render: NodeReader.Render = { text, location in
      Template.render(
        text, vars: vars, files: Self.includes(of: text, vars: vars, cache: &cache, read: read),
        missing: { problems.append(($0, location)) })
    }
    r.toolNamesUnknown = (spec.keys.pick("mcp") ?? spec.context.lists["mcp"]) != nil
    defer { r.toolNamesUnknown = false }
    let system = spec.chat.system.flatMap { s in r.string(s, "system").map { render($0, s.location) } }
    let (conversation, chat) = self.conversation(
      spec, chat: self.chat(spec, version: dimension.version, system: system, render: render),
      rowVars: dimension.rowVars, render: render)
    let params = self.params(spec, render: render)
    let transforms = spec.keys.pick("transform").flatMap { r.transforms($0, "transform", render) } ?? []
    let assertions = self.assertions(spec, render: render)
    let loop = toolLoop(spec.keys, ctx: spec.context, params: params, paramPairs: spec.paramPairs, render: render)
    let answering = answerers(spec, render: render, rendered: { problems.isEmpty })
    let appTarget = self.appTarget(spec)
    fileCache = cache
    reportTemplateProblems(problems, vars: caseVars)
    return answering.map { a in
      TestVariant(
        chat: chat,
        .init(
          matrix: dimension.combination, vars: caseVars, system: chat.isPrompt ? system : nil, params: params,
          assertions: assertions, provider: a.provider, model: a.model, target: a.target,
          threshold: spec.gating.threshold, transforms: transforms, loop: loop, conversation: conversation,
          appTarget: appTarget))
    }
  }

  /// `target: NAME` (a target of the config) or an inline `target: {http: …}` (README "Testing your app").
  mutating func appTarget(_ spec: TestSpec) -> AppTarget? {
    guard let node = spec.keys.pick("target") ?? spec.context.lists["target"] else { return nil }
    if node.mapping != nil { return r.appTarget(node, name: "inline", what: "target") }
    guard let name = r.strictString(node, "target") else { return nil }
    if let t = config.appTarget(named: name) { return t }
    var message = "unknown target '\(name)'"
    if let guess = closestMatch(to: name, in: config.appTargets.map(\.name)) {
      message += "; did you mean '\(guess)'?"
    } else {
      message += "; define it under targets in promptcheck.yaml"
    }
    r.error(message, at: node)
    return nil
  }

  /// A `prompt:` (or one prompt version) with no messages is kept as text; anything else as messages.
  mutating func chat(_ spec: TestSpec, version: Int?, system: String?, render: NodeReader.Render) -> Chat {
    let (messagesNode, promptNode) = (spec.chat.messages, spec.chat.prompt)
    var users: [String] = []
    if let p = promptNode, messagesNode == nil, let text = r.string(p, "prompt") {
      users.append(render(text, p.location))
    }
    if let version {
      users.append(render(spec.versions[version].text, spec.versions[version].location))
    }
    if users.count == 1 && (messagesNode == nil || promptNode != nil) { return .prompt(users[0]) }
    var messages: [JSON] = system.map { [["role": "system", "content": .string($0)]] } ?? []
    for text in users { messages.append(["role": "user", "content": .string(text)]) }
    if let mNode = messagesNode, promptNode == nil {
      messages += self.messages(mNode, render: render)
    }
    return .messages(messages)
  }

  /// The request params; a test that only takes the defaults' template-free params gets the
  /// suite's one parsed object of them (`SharedParses`).
  mutating func params(_ spec: TestSpec, render: NodeReader.Render) -> JSONObject {
    let defaults = spec.keys.defaults["params"]
    let key = spec.keys.own["params"] == nil ? defaults.map { "\($0.location.line):\($0.location.column)" } : nil
    if let key, let shared = shared.params[key] { return shared }
    let errorsBefore = r.sink.diagnostics.count
    let params = r.params(spec.paramPairs, render: render)
    if let key, r.sink.diagnostics.count == errorsBefore,
      !spec.paramPairs.contains(where: { Self.hasTemplates($0.value) })
    {
      shared.params[key] = params
    }
    return params
  }

  /// The assertions, defaults first; the defaults' template-free list is parsed once per suite.
  mutating func assertions(_ spec: TestSpec, render: NodeReader.Render) -> [Assertion] {
    let a = spec.asserts
    var assertions: [Assertion] = []
    var first = 0
    if let key = a.defaultsKey, let parsed = shared.assertions[key] {
      assertions = parsed
      first = a.defaultCount
    }
    let errorsBefore = r.sink.diagnostics.count
    for (k, node) in a.nodes.enumerated() where k >= first {
      if let parsed = r.assertion(node, index: k, render: render) { assertions.append(parsed) }
      if k == a.defaultCount - 1, first == 0, let key = a.defaultsKey, !a.defaultsHaveTemplates,
        r.sink.diagnostics.count == errorsBefore, assertions.count == a.defaultCount
      {
        shared.assertions[key] = assertions
      }
    }
    return assertions
  }

  /// Who answers this variant: templated model and provider rendered with its vars, times the
  /// target lists. `rendered` says whether the templates so far rendered without a problem.
  mutating func answerers(_ spec: TestSpec, render: NodeReader.Render, rendered: () -> Bool)
    -> [(provider: Provider, model: String, target: String?)]
  {
    let a = spec.answering
    var provider = a.provider
    if a.providerTemplated, let pn = a.providerNode, let text = pn.scalar?.text {
      let pname = render(text, pn.location)
      if let p = config.provider(named: pname) {
        provider = p
      } else if rendered() {
        r.error("unknown provider '\(pname)' (from '\(text)')", at: pn)
      }
    }
    var model = a.model
    if let mn = a.modelNode, let text = mn.scalar?.text, Template.mayHaveTemplates(text) {
      model = render(text, mn.location)
    } else if a.providerTemplated, a.modelNode == nil {
      model = provider?.model ?? a.model
    }
    let pairs: [(Provider, Bool)] = a.listed ? a.targets.map { ($0, true) } : provider.map { [($0, false)] } ?? []
    var out: [(provider: Provider, model: String, target: String?)] = []
    for (p, labelled) in pairs {
      for m in a.modelList ?? [(a.providerList != nil ? p.model : nil) ?? model ?? ""] {
        if m.isEmpty {
          // (Without lists or templates the missing model was reported when reading.)
          if a.listed || a.providerTemplated {
            r.error(
              "no model for provider '\(p.name)' in test '\(spec.name)': give it a model, or list models",
              at: spec.keys.node)
          }
          continue
        }
        out.append((p, m, labelled ? "\(p.name):\(m)" : nil))
      }
    }
    return out
  }

  mutating func reportTemplateProblems(_ problems: [(Template.Problem, SourceLocation)], vars: [String: String]) {
    for (problem, location) in problems {
      switch problem {
      case .unknownVariable(let name):
        var m = "unknown variable '\(name)'"
        let known = vars.keys.sorted()
        if let guess = closestMatch(to: name, in: known) {
          m += "; did you mean '\(guess)'?"
        } else if known.isEmpty {
          m += "; this test defines no vars"
        } else {
          m += " (known: \(known.joined(separator: ", ")))"
        }
        r.error(m, at: location)
      case .unreadableFile(let path):
        r.error("cannot include file '\(path)' (paths are relative to the suite file's folder)", at: location)
      }
    }
  }
}
