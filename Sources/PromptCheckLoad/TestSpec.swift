import Foundation
import PromptCheckCore

/// What one entry of `tests:` says, read key family by key family and checked, before it is
/// expanded into variants (`Loader.variants(of:)`). Plain values and the nodes that are rendered
/// per variant (templates need each variant's vars); nothing here is shared yet.
struct TestSpec {
  var name: String
  var nameNode: YAMLNode
  var slug: String
  var keys: TestKeys
  /// What the suite level says (its `mocks:` among it).
  var context: Loader.SuiteContext
  var description: String?
  var tags: [String] = []
  var answering: AnsweringSpec
  var versions: [PromptVersion] = []
  var data = DataRows()
  var chat: ChatSpec
  var vars: [String: String] = [:]
  var matrix: [(key: String, values: [String])] = []
  /// Defaults' keys first (test values winning in place), then the test's own.
  var paramPairs: [YAMLNode.Pair] = []
  var asserts = AssertSpec()
  var gating = GatingSpec()

  /// How many variants the matrix, dataset, prompt versions and target lists multiply to.
  var combinationCount: Int {
    matrix.reduce(1) { $0 * max($1.values.count, 1) } * max(data.rows.count, 1) * max(versions.count, 1)
      * max(answering.targets.count, 1) * max(answering.modelList?.count ?? 1, 1)
  }
}

/// A test's own keys over its defaults'.
struct TestKeys {
  let node: YAMLNode
  let own: [String: YAMLNode]
  let defaults: [String: YAMLNode]
  let hadUnknownKeys: Bool

  /// The test's value for `key`, else its defaults'.
  func pick(_ key: String) -> YAMLNode? { own[key] ?? defaults[key] }
}

/// Who answers: a provider and model fixed at load time, or templated (`model: "{{m}}"`) and
/// rendered per variant, or the `providers:`/`models:` target lists.
struct AnsweringSpec {
  var provider: Provider?
  var providerNode: YAMLNode?
  var providerTemplated = false
  var modelNode: YAMLNode?
  var model: String?
  var providerList: [(name: String, node: YAMLNode?)]?
  var modelList: [String]?
  /// The providers every variant is asked of (one when there is no list).
  var targets: [Provider] = []
  /// Whether the variants are labelled by target (`…@provider:model`).
  var listed: Bool { providerList != nil || modelList != nil }
}

/// One of `prompts:`: a file whose text is the user prompt, a case of its own.
struct PromptVersion {
  var name: String
  var text: String
  var location: SourceLocation
}

/// `dataset:` rows (each row's columns are vars) and the file's name for the case ids.
struct DataRows {
  var rows: [Dataset.Row] = []
  var name = ""
}

/// Exactly one of `messages:`/`prompt:`, at the level that gives them, and the system text.
struct ChatSpec {
  var messages: YAMLNode?
  var prompt: YAMLNode?
  var system: YAMLNode?
}

/// The assertion nodes, defaults first; the defaults' part may be parsed once per suite.
struct AssertSpec {
  var nodes: [YAMLNode] = []
  var defaultCount = 0
  /// Where the defaults' list starts: the key of its parsed form in `SharedParses`.
  var defaultsKey: String?
  var defaultsHaveTemplates = false
}

/// What decides a test beyond its assertions: golden, threshold, repeats, pass rate, skip, only.
struct GatingSpec {
  var golden: GoldenSpec?
  var threshold: Double?
  var repeatCount: Int?
  var repeatMin: Int?
  var minPassRate: Double?
  var confidence: Double?
  var skip: String?
  var only = false
}

// MARK: Readers, one per key family

extension Loader {
  /// The test's map, name and slug; nil (with the problem said) when it has no usable name.
  mutating func testKeys(_ node: YAMLNode, index: Int, ctx: SuiteContext) -> (TestKeys, String, YAMLNode, String)? {
    let what = "tests[\(index)]"
    guard let own = r.map(node, what, allowed: SuiteLoader.testKeys) else { return nil }
    let keys = TestKeys(node: node, own: own, defaults: ctx.defaults, hadUnknownKeys: r.lastMapHadUnknownKeys)
    guard let nameNode = own["name"] else {
      if !keys.hadUnknownKeys { r.error("\(what) needs a name", at: node) }
      return nil
    }
    guard let name = r.string(nameNode, "\(what).name") else { return nil }
    let slug = slugify(name)
    if slug.isEmpty {
      r.error("test name '\(name)' has no letters or digits to make its id from", at: nameNode)
      return nil
    }
    return (keys, name, nameNode, slug)
  }

  /// `description` and `tags`; they and `name`/`skip` are not templated, so `{{…}}` there is refused.
  mutating func labels(_ keys: TestKeys, nameNode: YAMLNode) -> (description: String?, tags: [String]) {
    let description = keys.pick("description").flatMap { r.string($0, "description") }
    var tags: [String] = []
    if let t = keys.pick("tags") {
      tags = (t.scalar != nil ? r.string(t, "tags").map { [$0] } : r.stringList(t, "tags")) ?? []
    }
    var verbatim = [("name", nameNode), ("description", keys.pick("description")), ("skip", keys.own["skip"])]
    if let t = keys.pick("tags") { verbatim += (t.sequence ?? [t]).map { ("tags", $0) } }
    for (key, n) in verbatim { r.refuseTemplate(n, key) }
    return (description, tags)
  }

  /// Provider and model (the test's, else defaults', else the suite's; either may be templated)
  /// and the target lists (the test's, its defaults', the suite's, or the run's override).
  mutating func answering(_ keys: TestKeys, name: String, ctx: SuiteContext) -> AnsweringSpec {
    var a = AnsweringSpec(provider: ctx.provider)
    a.providerNode = keys.pick("provider")
    a.providerTemplated = a.providerNode?.scalar.map { Template.mayHaveTemplates($0.text) } ?? false
    if let p = a.providerNode, !a.providerTemplated { a.provider = self.provider(p, "provider") }
    a.modelNode = keys.pick("model")
    a.model = a.modelNode.flatMap { r.strictString($0, "model") }
    if a.model == nil, a.providerNode != nil, !a.providerTemplated { a.model = a.provider?.model }
    if a.model == nil { a.model = ctx.model ?? a.provider?.model }
    if a.provider != nil, a.model == nil, !a.providerTemplated {
      r.error("no model for test '\(name)': set 'model' in the suite or in its provider", at: keys.node)
    }
    func listed(_ key: String) -> YAMLNode? { keys.pick(key) ?? ctx.lists[key] }
    a.providerList =
      config.targetProviders.map { $0.map { ($0, nil) } }
      ?? listed("providers").flatMap { n in r.stringList(n, "providers").map { names in names.map { ($0, n) } } }
    a.modelList = config.targetModels ?? listed("models").flatMap { r.stringList($0, "models") }
    if let providerList = a.providerList {
      for (pname, pnode) in providerList {
        if let p = config.provider(named: pname) {
          a.targets.append(p)
        } else {
          var message = "unknown provider '\(pname)'"
          if let guess = closestMatch(to: pname, in: config.providers.map(\.name)) {
            message += "; did you mean '\(guess)'?"
          }
          r.error(message + (pnode == nil ? " (from --provider)" : ""), at: pnode ?? keys.node)
        }
      }
    } else if let provider = a.provider {
      a.targets.append(provider)
    }
    return a
  }

  /// `prompts:`: a map of version to file or a list of files, each read now.
  mutating func promptVersions(_ keys: TestKeys, ctx: SuiteContext) -> [PromptVersion] {
    guard let pn = keys.pick("prompts") ?? ctx.lists["prompts"] else { return [] }
    if keys.own["prompt"] != nil || keys.own["messages"] != nil {
      r.error("give either 'prompts' (versions) or 'prompt'/'messages', not both", at: pn)
    }
    var entries: [(String, YAMLNode)] = []
    if let pairs = pn.mapping {
      entries = pairs.map { ($0.key.scalar?.text ?? "", $0.value) }
    } else if let items = pn.sequence {
      entries = items.map { item in
        // `{label, raw}`: an inline version, named by its label.
        if let m = item.mapping, let label = m.first(where: { $0.key.scalar?.text == "label" })?.value.scalar?.text {
          return (label, item)
        }
        return ((((item.scalar?.text ?? "") as NSString).lastPathComponent as NSString).deletingPathExtension, item)
      }
    } else {
      r.error("prompts must be a map of version to file, or a list of files, found \(pn.kindDescription)", at: pn)
    }
    var versions: [PromptVersion] = []
    for (version, fileNode) in entries {
      // An inline version: `{raw: TEXT}` (and `label` in a list).
      if fileNode.mapping != nil {
        guard let m = r.map(fileNode, "prompts.\(version)", allowed: ["raw", "label"]) else { continue }
        guard let raw = m["raw"], let text = r.string(raw, "prompts.\(version).raw") else {
          if m["raw"] == nil { r.error("prompts.\(version) needs raw, the prompt's text", at: fileNode) }
          continue
        }
        versions.append(PromptVersion(name: version, text: text, location: raw.location))
        continue
      }
      guard let path = r.strictString(fileNode, "prompts.\(version)") else { continue }
      guard let text = readFile(path) else {
        r.error("cannot read the prompt file '\(path)' (paths are relative to the suite file's folder)", at: fileNode)
        continue
      }
      versions.append(PromptVersion(name: version, text: text, location: fileNode.location))
    }
    return versions
  }

  /// `dataset:`: a `.csv` or `.jsonl` file read now.
  mutating func dataset(_ keys: TestKeys) -> DataRows {
    guard let dn = keys.own["dataset"], let path = r.strictString(dn, "dataset") else { return DataRows() }
    var data = DataRows(name: (path as NSString).lastPathComponent)
    if !(path.hasSuffix(".csv") || path.hasSuffix(".jsonl")) {
      r.error("dataset must be a .csv or .jsonl file, found '\(path)'", at: dn)
    } else if let text = readFile(path) {
      switch Dataset.parse(text, file: path) {
      case .success(let rows):
        data.rows = rows
        if rows.isEmpty { r.error("the dataset '\(path)' has no rows", at: dn) }
      case .failure(let p):
        r.error("\(path):\(p.line): \(p.message)", at: dn)
      }
    } else {
      r.error("cannot read the dataset '\(path)' (paths are relative to the suite file's folder)", at: dn)
    }
    return data
  }

  /// `messages:` or `prompt:` (exactly one, at the level that gives them) and `system:`.
  /// A conversation (`conversation`: `turns`, `simulate`, or dataset rows with turns) may give only `system`.
  mutating func chatSpec(
    _ keys: TestKeys, name: String, nameNode: YAMLNode, hasVersions: Bool, conversation: Bool, ctx: SuiteContext
  ) -> ChatSpec {
    let level = (keys.own["messages"] != nil || keys.own["prompt"] != nil) ? keys.own : keys.defaults
    let spec = ChatSpec(
      messages: level["messages"], prompt: level["prompt"], system: keys.pick("system") ?? ctx.system)
    if spec.messages != nil, let promptNode = spec.prompt {
      r.error("give either 'messages' or 'prompt', not both", at: promptNode)
    } else if spec.messages == nil && spec.prompt == nil && !hasVersions && !keys.hadUnknownKeys
      && !conversation
    {
      r.error("test '\(name)' needs 'messages' or 'prompt'", at: nameNode)
    }
    return spec
  }

  /// `vars:` (defaults merged key by key).
  mutating func vars(_ keys: TestKeys) -> [String: String] {
    var vars: [String: String] = [:]
    for source in [keys.defaults["vars"], keys.own["vars"]].compactMap({ $0 }) {
      guard let pairs = source.mapping else {
        r.error("vars must be a map, found \(source.kindDescription)", at: source)
        continue
      }
      for p in pairs {
        let key = p.key.scalar?.text ?? ""
        if let v = scalarText(p.value, "vars.\(key)") { vars[key] = v }
      }
    }
    return vars
  }

  /// `matrix:`: each variable's list of values, in the order given.
  mutating func matrix(_ keys: TestKeys) -> [(key: String, values: [String])] {
    guard let mNode = keys.own["matrix"] else { return [] }
    guard let pairs = mNode.mapping else {
      r.error("matrix must be a map of variable to list of values, found \(mNode.kindDescription)", at: mNode)
      return []
    }
    var matrix: [(key: String, values: [String])] = []
    for p in pairs {
      let key = p.key.scalar?.text ?? ""
      guard let values = r.list(p.value, "matrix.\(key)") else { continue }
      if values.isEmpty { r.error("matrix.\(key) needs at least one value", at: p.value) }
      matrix.append((key, values.compactMap { scalarText($0, "each value of matrix.\(key)") }))
    }
    if pairs.isEmpty { r.error("matrix needs at least one key", at: mNode) }
    return matrix
  }

  /// `params:`: defaults' keys first, the test's values winning in place, then its new keys.
  mutating func paramPairs(_ keys: TestKeys) -> [YAMLNode.Pair] {
    var paramPairs: [YAMLNode.Pair] = []
    for source in [keys.defaults["params"], keys.own["params"]].compactMap({ $0 }) {
      guard let pairs = source.mapping else {
        r.error("params must be a map, found \(source.kindDescription)", at: source)
        continue
      }
      for p in pairs {
        if let i = paramPairs.firstIndex(where: { $0.key.scalar?.text == p.key.scalar?.text }) {
          paramPairs[i] = p
        } else {
          paramPairs.append(p)
        }
      }
    }
    return paramPairs
  }

  /// `assert:`: the defaults' items first, then the test's.
  mutating func assertSpec(_ keys: TestKeys) -> AssertSpec {
    let defaultItems = keys.defaults["assert"]?.sequence ?? []
    var spec = AssertSpec(
      defaultCount: defaultItems.count,
      defaultsKey: defaultItems.first.map { "\($0.location.file):\($0.location.line):\($0.location.column)" },
      defaultsHaveTemplates: defaultItems.contains(where: Self.hasTemplates))
    for source in [keys.defaults["assert"], keys.own["assert"]].compactMap({ $0 }) {
      if let items = r.list(source, "assert") { spec.nodes += items }
    }
    return spec
  }

  /// `golden`, `threshold`, `repeat`, `min_pass_rate`, `skip` and `only`.
  mutating func gating(_ keys: TestKeys) -> GatingSpec {
    var g = GatingSpec()
    g.golden = keys.pick("golden").flatMap { goldenSpec($0) }
    g.threshold = keys.pick("threshold").flatMap { r.number($0, "threshold", in: 0...1) }
    if let node = keys.own["repeat"] { readRepeat(node, into: &g) }
    if let node = keys.own["min_pass_rate"] { readPassRate(node, into: &g) }
    if let m = keys.own["min_pass_rate"], keys.own["repeat"] == nil {
      r.error("min_pass_rate applies to repeated tests; add 'repeat: N'", at: m)
    }
    if let node = keys.own["repeat"], g.repeatMin != nil, keys.own["min_pass_rate"] == nil {
      r.error("adaptive repeat {min, max} samples until a min_pass_rate is decided; add min_pass_rate", at: node)
    }
    if let s = keys.own["skip"] {
      if case .bool(let b)? = s.resolved {
        g.skip = b ? "skipped" : nil
      } else {
        g.skip = r.string(s, "skip")
      }
    }
    g.only = keys.own["only"].flatMap { r.bool($0, "only") } ?? false
    return g
  }

  /// `repeat: N`, or adaptive `repeat: {max: 20, min: 3}`.
  private mutating func readRepeat(_ node: YAMLNode, into g: inout GatingSpec) {
    guard node.mapping != nil else {
      g.repeatCount = r.int(node, "repeat", min: 1, max: 10_000)
      return
    }
    guard let m = r.map(node, "repeat", allowed: ["min", "max"]) else { return }
    g.repeatMin = m["min"].flatMap { r.int($0, "repeat.min", min: 1, max: 10_000) } ?? 1
    g.repeatCount = m["max"].flatMap { r.int($0, "repeat.max", min: 1, max: 10_000) }
    if m["max"] == nil { r.error("repeat {min, max} needs max, the most samples to draw", at: node) }
    if let lo = g.repeatMin, let hi = g.repeatCount, lo > hi {
      r.error("repeat: min (\(lo)) is greater than max (\(hi))", at: node)
    }
  }

  /// `min_pass_rate: R`, or `min_pass_rate: {rate, confidence}`.
  private mutating func readPassRate(_ node: YAMLNode, into g: inout GatingSpec) {
    guard node.mapping != nil else {
      g.minPassRate = r.number(node, "min_pass_rate", in: 0...1)
      return
    }
    guard let m = r.map(node, "min_pass_rate", allowed: ["rate", "confidence"]) else { return }
    g.minPassRate = m["rate"].flatMap { r.number($0, "min_pass_rate.rate", in: 0...1) }
    if m["rate"] == nil { r.error("min_pass_rate {rate, confidence} needs rate", at: node) }
    g.confidence = m["confidence"].flatMap { r.number($0, "min_pass_rate.confidence", in: 0.5...0.9999) }
  }

  /// Scalar text for vars and matrix values: strings, numbers and booleans as written.
  mutating func scalarText(_ node: YAMLNode, _ what: String) -> String? {
    guard let (text, _) = node.scalar else {
      r.error("\(what) must be a string, number or boolean, found \(node.kindDescription)", at: node)
      return nil
    }
    return text
  }
}
