import Foundation
import PromptCheckCore

/// Turns one suite file into a validated `Suite` (README "Suite files"). Pure: text in,
/// suite and diagnostics out; `{{file:…}}` includes are read through `readFile`.
package enum SuiteLoader {
  package static let suiteKeys = [
    "description", "provider", "model", "providers", "models", "prompts", "system", "defaults", "tests",
  ]
  package static let testKeys = [
    "name", "description", "tags", "vars", "matrix", "dataset", "messages", "prompt", "prompts", "system", "params",
    "assert", "golden", "repeat", "min_pass_rate", "skip", "only", "model", "provider", "providers", "models",
    "threshold", "transform",
  ]
  static let notInDefaults = ["name", "matrix", "dataset", "repeat", "min_pass_rate", "skip", "only"]
  package static var defaultsKeys: [String] { testKeys.filter { !notInDefaults.contains($0) } }
  /// Most matrix cases one test may expand to.
  package static let maxMatrixCases = 10_000

  package static func load(
    text: String, file: String, name: String, config: Config,
    readFile: @escaping @Sendable (String) -> String? = { _ in nil }
  ) -> (Suite?, [Diagnostic]) {
    load(bytes: Array(text.utf8), file: file, name: name, config: config, readFile: readFile)
  }

  package static func load(
    bytes: [UInt8], file: String, name: String, config: Config,
    readFile: @escaping @Sendable (String) -> String? = { _ in nil }
  ) -> (Suite?, [Diagnostic]) {
    let root: YAMLNode
    do {
      root = try YAMLParser.parse(bytes: bytes, file: file)
    } catch {
      return (nil, [error])
    }
    var loader = Loader(file: file, suiteName: name, config: config, readFile: readFile)
    let suite = loader.suite(root)
    // Report in file order, whatever order the checks ran in.
    let diagnostics = Diagnostic.inFileOrder(loader.r.sink.diagnostics + loader.warnings)
    // Warnings alone leave the suite usable.
    return (loader.r.sink.diagnostics.isEmpty ? suite : nil, diagnostics)
  }
}

private struct Loader: Sendable {
  var r = NodeReader()
  let file: String
  let suiteName: String
  let config: Config
  let readFile: @Sendable (String) -> String?
  var fileCache: [String: String?] = [:]
  /// Problems that do not stop the suite (said once per suite each).
  var warnings: [Diagnostic] = []
  /// The defaults' assertions, parsed once when they hold no template: every test shares them.
  var sharedDefaultAssertions: [String: [Assertion]] = [:]
  /// The defaults' params, read once when they hold no template and a test adds none.
  var sharedDefaultParams: [String: JSONObject] = [:]
  /// The last variant's box: the next variant that answers alike shares it.
  var lastVariantBox: FieldBox<TestVariant.Fields>?

  init(file: String, suiteName: String, config: Config, readFile: @escaping @Sendable (String) -> String?) {
    self.file = file
    self.suiteName = suiteName
    self.config = config
    self.readFile = readFile
    r.judgeProviders = config.providers
    r.graderDefaults = config.grader
    r.embeddingDefaults = config.embeddings
  }

  /// What the suite level says, shared by its tests.
  struct SuiteContext {
    var provider: Provider?
    var model: String?
    var system: YAMLNode?
    var defaults: [String: YAMLNode] = [:]
    /// Suite-level `providers:`, `models:` and `prompts:` (a test's or its defaults' win).
    var lists: [String: YAMLNode] = [:]
  }

  /// A suite's defaults value over the config's: `params` and `vars` merge key by key (the
  /// suite's win), `assert` lists join (the config's first), anything else is replaced.
  static func layered(_ base: YAMLNode?, over top: YAMLNode, key: String) -> YAMLNode {
    guard let base else { return top }
    switch (key, base.content, top.content) {
    case ("params", .mapping(let a), .mapping(let b)), ("vars", .mapping(let a), .mapping(let b)):
      let names = Set(b.map { $0.key.scalar?.text ?? "" })
      var merged = top
      merged.content = .mapping(a.filter { !names.contains($0.key.scalar?.text ?? "") } + b)
      return merged
    case ("assert", .sequence(let a), .sequence(let b)):
      var merged = top
      merged.content = .sequence(a + b)
      return merged
    default:
      return top
    }
  }

  mutating func suite(_ root: YAMLNode) -> Suite? {
    if case .null? = root.resolved {
      r.error("the suite file is empty; it needs a 'tests' list", at: root)
      return nil
    }
    guard let m = r.map(root, "the suite", allowed: SuiteLoader.suiteKeys) else { return nil }
    let suiteHadUnknownKeys = r.lastMapHadUnknownKeys
    var ctx = SuiteContext()
    let description = m["description"].flatMap { r.string($0, "description") }
    r.refuseTemplate(m["description"], "description")
    if let p = m["provider"] {
      ctx.provider = provider(p, "provider")
    } else if let p = config.provider(named: config.defaultProvider) {
      ctx.provider = p
    }
    ctx.model = m["model"].flatMap { r.strictString($0, "model") }
    ctx.system = m["system"]
    for key in ["providers", "models", "prompts"] { ctx.lists[key] = m[key] }
    // The config's defaults first; the suite's win (maps merged key by key, assertion lists joined).
    for (key, value) in config.defaults { ctx.defaults[key] = value }
    if let d = m["defaults"] {
      for (key, value) in r.defaults(d) { ctx.defaults[key] = Self.layered(ctx.defaults[key], over: value, key: key) }
    }
    guard let testsNode = m["tests"] else {
      if !suiteHadUnknownKeys { r.error("the suite has no 'tests' list", at: root) }
      return nil
    }
    guard let items = r.list(testsNode, "tests") else { return nil }
    if items.isEmpty { r.error("the suite's 'tests' list is empty", at: testsNode) }

    var tests: [TestDefinition] = []
    var ids: [String: SourceLocation] = [:]
    var stems: [String: String] = [:]
    for case let t? in loadTests(items, ctx: ctx) {
      // Duplicate ids (and file names, which slugging can make collide) are errors.
      for v in t.variants {
        let id = CaseID.id(suite: suiteName, slug: t.slug, matrix: v.matrix, target: v.target, repeatIndex: nil)
        let stem = CaseID.fileStem(slug: t.slug, matrix: v.matrix, target: v.target, repeatIndex: nil)
        if let first = ids[id] {
          r.error(
            "duplicate test id '\(id)' (first defined at line \(first.line)); give the test another name",
            at: t.location)
          break
        } else if let other = stems[stem] {
          r.error(
            "test id '\(id)' would share its cassette and golden file name '\(stem)' with '\(other)'", at: t.location)
          break
        }
        ids[id] = t.location
        stems[stem] = id
      }
      tests.append(t)
    }
    return Suite(name: suiteName, file: file, description: description, tests: tests)
  }

  /// The tests of `items`, in order. A long list is split between copies of this loader that
  /// run at once, one per core; their diagnostics, caches and warnings are then taken back as
  /// one loader going through the list would have left them (diagnostics are put in file order
  /// at the end anyway; the test-level warning is said once, by the first test that has it).
  mutating func loadTests(_ items: [YAMLNode], ctx: SuiteContext) -> [TestDefinition?] {
    let parts = items.count >= 1024 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
    guard parts > 1 else { return items.enumerated().map { test($1, index: $0, ctx: ctx) } }
    let bounds = (0...parts).map { $0 * items.count / parts }
    let base = self
    let done = concurrentMap(parts) { p in
      var loader = base
      var tests: [TestDefinition?] = []
      tests.reserveCapacity(bounds[p + 1] - bounds[p])
      for k in bounds[p]..<bounds[p + 1] { tests.append(loader.test(items[k], index: k, ctx: ctx)) }
      return (loader: loader, tests: tests)
    }
    let warningsBefore = warnings.count
    var all: [TestDefinition?] = []
    all.reserveCapacity(items.count)
    for (loader, tests) in done {
      r.sink.append(contentsOf: loader.r.sink.diagnostics)
      if warnings.count == warningsBefore { warnings += loader.warnings[warningsBefore...] }
      sharedDefaultAssertions.merge(loader.sharedDefaultAssertions) { a, _ in a }
      sharedDefaultParams.merge(loader.sharedDefaultParams) { a, _ in a }
      all += tests
    }
    return all
  }

  /// OpenRouter may send a request to a provider that ignores some parameters unless
  /// `provider.require_parameters` is true: said once per suite, with the fix.
  mutating func warnDroppable(_ pairs: [YAMLNode.Pair], provider: Provider) {
    let requires =
      pairs.first { $0.key.scalar?.text == "provider" }?.value.mapping?
      .first { $0.key.scalar?.text == "require_parameters" }?.value.resolved == .bool(true)
    guard !requires,
      let p = pairs.first(where: { NodeReader.droppableOnOpenRouter.contains($0.key.scalar?.text ?? "") }),
      let key = p.key.scalar?.text
    else { return }
    warnings.append(
      Diagnostic(
        "provider '\(provider.name)' is OpenRouter, which may route this request to a provider that ignores '\(key)'; "
          + "add 'provider: {require_parameters: true}' to params (or to defaults.params) so that only providers "
          + "honouring every parameter answer", at: p.key.location, severity: .warning))
  }

  mutating func provider(_ node: YAMLNode, _ what: String) -> Provider? {
    if node.mapping != nil {
      return r.provider(node, name: "inline", what: what, requireURL: true)
    }
    guard let name = r.strictString(node, what) else { return nil }
    if let p = config.provider(named: name) { return p }
    var message = "unknown provider '\(name)'"
    if let guess = closestMatch(to: name, in: config.providers.map(\.name)) {
      message += "; did you mean '\(guess)'?"
    } else {
      message += "; define it under 'providers' in promptcheck.yaml"
    }
    r.error(message, at: node)
    return nil
  }

  // MARK: Tests

  mutating func test(_ node: YAMLNode, index: Int, ctx: SuiteContext) -> TestDefinition? {
    let what = "tests[\(index)]"
    guard let own = r.map(node, what, allowed: SuiteLoader.testKeys) else { return nil }
    let hadUnknownKeys = r.lastMapHadUnknownKeys
    guard let nameNode = own["name"] else {
      if !hadUnknownKeys { r.error("\(what) needs a name", at: node) }
      return nil
    }
    guard let name = r.string(nameNode, "\(what).name") else { return nil }
    let slug = slugify(name)
    if slug.isEmpty {
      r.error("test name '\(name)' has no letters or digits to make its id from", at: nameNode)
      return nil
    }
    let d = ctx.defaults
    func pick(_ key: String) -> YAMLNode? { own[key] ?? d[key] }

    let errorsBefore = r.sink.diagnostics.count
    let description = pick("description").flatMap { r.string($0, "description") }
    var tags: [String] = []
    if let t = pick("tags") {
      tags = (t.scalar != nil ? r.string(t, "tags").map { [$0] } : r.stringList(t, "tags")) ?? []
    }

    // Fields that are not templated must not look templated: `{{…}}` there would be sent as written.
    var verbatim = [("name", nameNode), ("description", pick("description")), ("skip", own["skip"])]
    if let t = pick("tags") { verbatim += (t.sequence ?? [t]).map { ("tags", $0) } }
    for (key, n) in verbatim { r.refuseTemplate(n, key) }

    // Provider and model: the test's, else defaults', else the suite's; either may be
    // templated (`model: "{{m}}"`), which is resolved per variant below.
    var provider = ctx.provider
    let providerNode = pick("provider")
    let providerTemplated = providerNode?.scalar.map { Template.mayHaveTemplates($0.text) } ?? false
    if let p = providerNode, !providerTemplated { provider = self.provider(p, "provider") }
    let modelNode = pick("model")
    var model = modelNode.flatMap { r.strictString($0, "model") }
    if model == nil, providerNode != nil, !providerTemplated { model = provider?.model }
    if model == nil { model = ctx.model ?? provider?.model }
    if provider != nil, model == nil, !providerTemplated {
      r.error("no model for test '\(name)': set 'model' in the suite or in its provider", at: node)
    }
    // Targets: `providers:` and `models:` lists (the test's, its defaults', the suite's), or the run's override.
    let providerList: [(name: String, node: YAMLNode?)]? =
      config.targetProviders.map { $0.map { ($0, nil) } }
      ?? (own["providers"] ?? d["providers"] ?? ctx.lists["providers"]).flatMap { n in
        r.stringList(n, "providers").map { names in names.map { ($0, n) } }
      }
    let modelList: [String]? =
      config.targetModels
      ?? (own["models"] ?? d["models"] ?? ctx.lists["models"]).flatMap { r.stringList($0, "models") }
    var targets: [(provider: Provider, model: String?, label: Bool)] = []
    if let providerList {
      for (pname, pnode) in providerList {
        if let p = config.provider(named: pname) {
          targets.append((p, nil, true))
        } else {
          var message = "unknown provider '\(pname)'"
          if let guess = closestMatch(to: pname, in: config.providers.map(\.name)) {
            message += "; did you mean '\(guess)'?"
          }
          r.error(message + (pnode == nil ? " (from --provider)" : ""), at: pnode ?? node)
        }
      }
    } else if let provider {
      targets.append((provider, nil, modelList != nil))
    }
    // The prompt versions (`prompts:`): files whose text is the user prompt, each a case of its own.
    var versions: [(name: String, text: String, location: SourceLocation)] = []
    if let pn = own["prompts"] ?? d["prompts"] ?? ctx.lists["prompts"] {
      if own["prompt"] != nil || own["messages"] != nil {
        r.error("give either 'prompts' (versions) or 'prompt'/'messages', not both", at: pn)
      }
      var entries: [(String, YAMLNode)] = []
      if let pairs = pn.mapping {
        entries = pairs.map { ($0.key.scalar?.text ?? "", $0.value) }
      } else if let items = pn.sequence {
        entries = items.map {
          (((($0.scalar?.text ?? "") as NSString).lastPathComponent as NSString).deletingPathExtension, $0)
        }
      } else {
        r.error("prompts must be a map of version to file, or a list of files, found \(pn.kindDescription)", at: pn)
      }
      for (version, fileNode) in entries {
        guard let path = r.strictString(fileNode, "prompts.\(version)") else { continue }
        guard let text = readFile(path) else {
          r.error("cannot read the prompt file '\(path)' (paths are relative to the suite file's folder)", at: fileNode)
          continue
        }
        versions.append((version, text, fileNode.location))
      }
    }
    // Data-driven cases (`dataset:`): each row's columns are vars.
    var rows: [Dataset.Row] = []
    var datasetName = ""
    if let dn = own["dataset"], let path = r.strictString(dn, "dataset") {
      datasetName = (path as NSString).lastPathComponent
      if !(path.hasSuffix(".csv") || path.hasSuffix(".jsonl")) {
        r.error("dataset must be a .csv or .jsonl file, found '\(path)'", at: dn)
      } else if let text = readFile(path) {
        switch Dataset.parse(text, file: path) {
        case .success(let rs):
          rows = rs
          if rs.isEmpty { r.error("the dataset '\(path)' has no rows", at: dn) }
        case .failure(let p):
          r.error("\(path):\(p.line): \(p.message)", at: dn)
        }
      } else {
        r.error("cannot read the dataset '\(path)' (paths are relative to the suite file's folder)", at: dn)
      }
    }

    // Messages: exactly one of messages / prompt, at the level that gives them.
    let level = (own["messages"] != nil || own["prompt"] != nil) ? own : d
    let messagesNode = level["messages"]
    let promptNode = level["prompt"]
    if messagesNode != nil, let promptNode {
      r.error("give either 'messages' or 'prompt', not both", at: promptNode)
    } else if messagesNode == nil && promptNode == nil && versions.isEmpty && !hadUnknownKeys {
      r.error("test '\(name)' needs 'messages' or 'prompt'", at: nameNode)
    }
    let systemNode = own["system"] ?? d["system"] ?? ctx.system

    // Vars (defaults merged key by key) and matrix.
    var vars: [String: String] = [:]
    for source in [d["vars"], own["vars"]].compactMap({ $0 }) {
      guard let pairs = source.mapping else {
        r.error("vars must be a map, found \(source.kindDescription)", at: source)
        continue
      }
      for p in pairs {
        let key = p.key.scalar?.text ?? ""
        if let v = scalarText(p.value, "vars.\(key)") { vars[key] = v }
      }
    }
    var matrix: [(key: String, values: [String])] = []
    if let mNode = own["matrix"] {
      if let pairs = mNode.mapping {
        for p in pairs {
          let key = p.key.scalar?.text ?? ""
          guard let values = r.list(p.value, "matrix.\(key)") else { continue }
          if values.isEmpty { r.error("matrix.\(key) needs at least one value", at: p.value) }
          matrix.append((key, values.compactMap { scalarText($0, "each value of matrix.\(key)") }))
        }
        if pairs.isEmpty { r.error("matrix needs at least one key", at: mNode) }
      } else {
        r.error("matrix must be a map of variable to list of values, found \(mNode.kindDescription)", at: mNode)
      }
    }
    let combinationCount =
      matrix.reduce(1) { $0 * max($1.values.count, 1) } * max(rows.count, 1) * max(versions.count, 1)
      * max(targets.count, 1) * max(modelList?.count ?? 1, 1)
    if combinationCount > SuiteLoader.maxMatrixCases {
      r.error(
        "matrix expands to \(combinationCount) cases; the limit is \(SuiteLoader.maxMatrixCases)",
        at: own["matrix"] ?? node)
      return nil
    }

    // Params: defaults' keys first (test values winning in place), then the test's own.
    var paramPairs: [YAMLNode.Pair] = []
    for source in [d["params"], own["params"]].compactMap({ $0 }) {
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

    // Assertions: defaults first, then the test's.
    let defaultItems = d["assert"]?.sequence ?? []
    let defaultsKey = defaultItems.first.map { "\($0.location.file):\($0.location.line):\($0.location.column)" }
    var assertNodes: [YAMLNode] = []
    for source in [d["assert"], own["assert"]].compactMap({ $0 }) {
      if let items = r.list(source, "assert") { assertNodes += items }
    }

    let golden = pick("golden").flatMap { goldenSpec($0) }
    let threshold = pick("threshold").flatMap { r.number($0, "threshold", in: 0...1) }
    var repeatCount: Int?
    var repeatMin: Int?
    if let node = own["repeat"] {
      if node.mapping != nil {
        // Adaptive: `repeat: {max: 20, min: 3}`.
        if let m = r.map(node, "repeat", allowed: ["min", "max"]) {
          repeatMin = m["min"].flatMap { r.int($0, "repeat.min", min: 1, max: 10_000) } ?? 1
          repeatCount = m["max"].flatMap { r.int($0, "repeat.max", min: 1, max: 10_000) }
          if m["max"] == nil { r.error("repeat {min, max} needs max, the most samples to draw", at: node) }
          if let lo = repeatMin, let hi = repeatCount, lo > hi {
            r.error("repeat: min (\(lo)) is greater than max (\(hi))", at: node)
          }
        }
      } else {
        repeatCount = r.int(node, "repeat", min: 1, max: 10_000)
      }
    }
    var minPassRate: Double?
    var confidence: Double?
    if let node = own["min_pass_rate"] {
      if node.mapping != nil {
        if let m = r.map(node, "min_pass_rate", allowed: ["rate", "confidence"]) {
          minPassRate = m["rate"].flatMap { r.number($0, "min_pass_rate.rate", in: 0...1) }
          if m["rate"] == nil { r.error("min_pass_rate {rate, confidence} needs rate", at: node) }
          confidence = m["confidence"].flatMap { r.number($0, "min_pass_rate.confidence", in: 0.5...0.9999) }
        }
      } else {
        minPassRate = r.number(node, "min_pass_rate", in: 0...1)
      }
    }
    if let m = own["min_pass_rate"], own["repeat"] == nil {
      r.error("min_pass_rate applies to repeated tests; add 'repeat: N'", at: m)
    }
    if let node = own["repeat"], repeatMin != nil, own["min_pass_rate"] == nil {
      r.error("adaptive repeat {min, max} samples until a min_pass_rate is decided; add min_pass_rate", at: node)
    }
    var skip: String?
    if let s = own["skip"] {
      if case .bool(let b)? = s.resolved {
        skip = b ? "skipped" : nil
      } else {
        skip = r.string(s, "skip")
      }
    }
    let only = own["only"].flatMap { r.bool($0, "only") } ?? false

    // One variant per matrix combination × dataset row × prompt version × target; every one is rendered and checked.
    var dimensions:
      [(combination: [(key: String, value: String)], vars: [(key: String, value: String)], version: Int?)] = []
    for combination in matrixCombinations(matrix) {
      for row in rows.isEmpty ? [nil] : rows.map(Optional.some) {
        for v in versions.isEmpty ? [nil] : Array(versions.indices).map(Optional.some) {
          var c = combination
          if let row { c.append(("row", "\(datasetName):\(row.line)")) }
          if let v { c.append(("prompt", versions[v].name)) }
          dimensions.append((c, row?.vars ?? [], v))
        }
      }
    }
    var variants: [TestVariant] = []
    for (combination, rowVars, version) in dimensions {
      var caseVars = vars
      for (k, v) in rowVars { caseVars[k] = v }
      for (k, v) in combination where k != "row" && k != "prompt" { caseVars[k] = v }
      var problems: [(Template.Problem, SourceLocation)] = []
      var cache = fileCache
      let read = readFile
      let render: NodeReader.Render = { text, location in
        Template.render(
          text, vars: caseVars,
          files: Self.includes(of: text, vars: caseVars, cache: &cache, read: read),
          missing: { problems.append(($0, location)) })
      }
      let system = systemNode.flatMap { s in r.string(s, "system").map { render($0, s.location) } }
      var users: [String] = []
      if let p = promptNode, messagesNode == nil, let text = r.string(p, "prompt") {
        users.append(render(text, p.location))
      }
      if let version {
        users.append(render(versions[version].text, versions[version].location))
      }
      let chat: Chat
      if users.count == 1 && (messagesNode == nil || promptNode != nil) {
        chat = .prompt(users[0])
      } else {
        var messages: [JSON] = system.map { [["role": "system", "content": .string($0)]] } ?? []
        for text in users { messages.append(["role": "user", "content": .string(text)]) }
        if let mNode = messagesNode, promptNode == nil {
          messages += self.messages(mNode, render: render)
        }
        chat = .messages(messages)
      }
      // A test that only takes the defaults' template-free params shares one object of them.
      let paramsKey = own["params"] == nil ? d["params"].map { "\($0.location.line):\($0.location.column)" } : nil
      let params: JSONObject
      if let key = paramsKey, let shared = sharedDefaultParams[key] {
        params = shared
      } else {
        let errorsBeforeParams = r.sink.diagnostics.count
        params = r.params(paramPairs, render: render)
        if let key = paramsKey, r.sink.diagnostics.count == errorsBeforeParams,
          !paramPairs.contains(where: { Self.hasTemplates($0.value) })
        {
          sharedDefaultParams[key] = params
        }
      }
      let transforms = pick("transform").flatMap { r.transforms($0, "transform", render) } ?? []
      var assertions: [Assertion] = []
      var first = 0
      if let key = defaultsKey, let shared = sharedDefaultAssertions[key] {
        assertions = shared
        first = defaultItems.count
      }
      let errorsBeforeAssertions = r.sink.diagnostics.count
      for (k, a) in assertNodes.enumerated() where k >= first {
        if let parsed = r.assertion(a, index: k, render: render) { assertions.append(parsed) }
        if k == defaultItems.count - 1, first == 0, let key = defaultsKey,
          r.sink.diagnostics.count == errorsBeforeAssertions, assertions.count == defaultItems.count,
          !defaultItems.contains(where: Self.hasTemplates)
        {
          sharedDefaultAssertions[key] = assertions
        }
      }
      // Who answers: templated model and provider are rendered with this variant's vars.
      var answering: [(provider: Provider, model: String, target: String?)] = []
      var variantProvider = provider
      if providerTemplated, let pn = providerNode, let text = pn.scalar?.text {
        let pname = render(text, pn.location)
        if let p = config.provider(named: pname) {
          variantProvider = p
        } else if problems.isEmpty {
          r.error("unknown provider '\(pname)' (from '\(text)')", at: pn)
        }
      }
      var variantModel = model
      if let mn = modelNode, let text = mn.scalar?.text, Template.mayHaveTemplates(text) {
        variantModel = render(text, mn.location)
      } else if providerTemplated, modelNode == nil {
        variantModel = variantProvider?.model ?? model
      }
      let pairs: [(Provider, String?, Bool)] =
        providerList != nil || modelList != nil
        ? targets.map { ($0.provider, $0.model, true) } : variantProvider.map { [($0, variantModel, false)] } ?? []
      for (p, _, labelled) in pairs {
        for m in modelList ?? [(providerList != nil ? p.model : nil) ?? variantModel ?? ""] {
          if m.isEmpty {
            // (Without lists or templates the missing model was reported above.)
            if providerList != nil || modelList != nil || providerTemplated {
              r.error("no model for provider '\(p.name)' in test '\(name)': give it a model, or list models", at: node)
            }
            continue
          }
          answering.append((p, m, labelled ? "\(p.name):\(m)" : nil))
        }
      }
      fileCache = cache
      for (problem, location) in problems {
        switch problem {
        case .unknownVariable(let name):
          var m = "unknown variable '\(name)'"
          let known = caseVars.keys.sorted()
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
      for a in answering {
        let fields = TestVariant.Fields(
          matrix: combination, vars: caseVars, system: chat.isPrompt ? system : nil, params: params,
          assertions: assertions, provider: a.provider, model: a.model, target: a.target, threshold: threshold,
          transforms: transforms)
        if let last = lastVariantBox, last.value.answersAlike(fields) {
          variants.append(TestVariant(chat: chat, sharing: last))
        } else {
          let variant = TestVariant(chat: chat, fields)
          lastVariantBox = variant.box
          variants.append(variant)
        }
      }
      // Later variants differ only in values: stop re-checking once one has failed.
      if r.sink.diagnostics.count > errorsBefore { break }
    }
    guard r.sink.diagnostics.count == errorsBefore, !variants.isEmpty else { return nil }
    if let openRouter = variants.first(where: { $0.provider.isOpenRouter })?.provider, warnings.isEmpty {
      warnDroppable(paramPairs, provider: openRouter)
    }
    return TestDefinition(
      .init(
        suite: suiteName, name: name, slug: slug, location: node.location, description: description, tags: tags,
        golden: golden, repeatCount: repeatCount, repeatMin: repeatMin, minPassRate: minPassRate,
        confidence: confidence,
        skip: skip, only: only, variants: variants))
  }

  /// Whether any scalar of the node may hold a `{{…}}` template.
  static func hasTemplates(_ node: YAMLNode) -> Bool {
    switch node.content {
    case .scalar(let text, _): return Template.mayHaveTemplates(text)
    case .sequence(let items): return items.contains(where: hasTemplates)
    case .mapping(let pairs): return pairs.contains { hasTemplates($0.key) || hasTemplates($0.value) }
    }
  }

  static func includes(
    of text: String, vars: [String: String], cache: inout [String: String?], read: (String) -> String?
  ) -> [String: String] {
    guard Template.mayHaveTemplates(text) else { return [:] }
    var out: [String: String] = [:]
    for f in Template.files(in: text).map({ Template.filePath($0, vars: vars, missing: { _ in }) }) {
      if cache[f] == nil { cache[f] = .some(read(f)) }
      if let content = cache[f] ?? nil { out[f] = content }
    }
    return out
  }

  /// Scalar text for vars and matrix values: strings, numbers and booleans as written.
  mutating func scalarText(_ node: YAMLNode, _ what: String) -> String? {
    guard let (text, _) = node.scalar else {
      r.error("\(what) must be a string, number or boolean, found \(node.kindDescription)", at: node)
      return nil
    }
    return text
  }

  // MARK: Messages

  static let roles = ["system", "user", "assistant", "developer", "tool"]
  static let openAIMessageKeys = ["role", "content", "name", "tool_calls", "tool_call_id"]

  mutating func messages(_ node: YAMLNode, render: NodeReader.Render) -> [JSON] {
    guard let items = r.list(node, "messages") else { return [] }
    if items.isEmpty { r.error("messages must not be empty", at: node) }
    var out: [JSON] = []
    for (k, item) in items.enumerated() {
      if let m = message(item, "messages[\(k)]", render: render) { out.append(m) }
    }
    return out
  }

  mutating func message(_ node: YAMLNode, _ what: String, render: NodeReader.Render) -> JSON? {
    guard let pairs = node.mapping else {
      r.error(
        "\(what) must be a map such as {user: \"…\"} or {role: user, content: \"…\"}, found \(node.kindDescription)",
        at: node)
      return nil
    }
    var m: [String: YAMLNode] = [:]
    var role: String?
    var contentNode: YAMLNode?
    var hadUnknownKeys = false
    let longForm = pairs.contains { $0.key.scalar?.text == "role" }
    for p in pairs {
      let key = p.key.scalar?.text ?? ""
      if longForm {
        guard Self.openAIMessageKeys.contains(key) else {
          r.unknownKey(key, at: p.key, in: what, allowed: Self.openAIMessageKeys)
          hadUnknownKeys = true
          continue
        }
        m[key] = p.value
      } else if Self.roles.contains(key) && key != "tool" {
        if let role {
          r.error("\(what) has two roles, '\(role)' and '\(key)'; write one message per role", at: p.key)
          return nil
        }
        role = key
        contentNode = p.value
      } else if key == "name" || key == "tool_calls" {
        m[key] = p.value
      } else {
        r.unknownKey(
          key, at: p.key, in: what, allowed: ["user", "system", "assistant", "developer", "name", "tool_calls"])
        hadUnknownKeys = true
      }
    }
    if longForm {
      guard let roleNode = m["role"], let rText = r.strictString(roleNode, "\(what).role") else { return nil }
      guard Self.roles.contains(rText) else {
        var message = "\(what).role must be one of \(Self.roles.joined(separator: ", ")), found '\(rText)'"
        if let guess = closestMatch(to: rText, in: Self.roles) { message += "; did you mean '\(guess)'?" }
        r.error(message, at: roleNode)
        return nil
      }
      role = rText
      contentNode = m["content"]
      if rText == "tool", m["tool_call_id"] == nil {
        r.error("\(what): a tool message needs tool_call_id", at: node)
      }
    }
    guard let role else {
      if hadUnknownKeys { return nil }
      r.error("\(what) names no role (user, system, assistant or developer)", at: node)
      return nil
    }
    if m["tool_calls"] != nil, role != "assistant" {
      r.error("\(what): only assistant messages carry tool_calls", at: node)
    }
    var object = JSONObject()
    object["role"] = .string(role)
    if let c = contentNode {
      if c.scalar != nil, case .null? = c.resolved {
        object["content"] = .null
      } else if c.scalar != nil {
        object["content"] = r.string(c, "\(what).content").map { .string(render($0, c.location)) } ?? .null
      } else if c.sequence != nil {
        object["content"] = r.json(c, render: render)  // content parts, passed through
      } else {
        r.error("\(what).content must be a string or a list of content parts, found \(c.kindDescription)", at: c)
      }
    } else if m["tool_calls"] == nil {
      r.error("\(what) has no content", at: node)
    }
    if let n = m["name"] { object["name"] = r.string(n, "\(what).name").map { .string($0) } }
    if let t = m["tool_calls"] { object["tool_calls"] = r.json(t, render: render) }
    if let t = m["tool_call_id"] { object["tool_call_id"] = r.string(t, "\(what).tool_call_id").map { .string($0) } }
    return .object(object)
  }

  // MARK: Goldens

  mutating func goldenSpec(_ node: YAMLNode) -> GoldenSpec? {
    if case .bool(let b)? = node.resolved { return b ? GoldenSpec(subject: .output, normalizers: []) : nil }
    guard let m = r.map(node, "golden", allowed: ["on", "normalize"]) else { return nil }
    var spec = GoldenSpec(subject: .output, normalizers: [])
    if let on = m["on"], let s = r.strictString(on, "golden.on") {
      if let subject = Assertion.Subject(rawValue: s) {
        spec.subject = subject
      } else {
        r.error("golden.on must be output, reasoning or response, found '\(s)'", at: on)
      }
    }
    if let n = m["normalize"], let items = r.list(n, "golden.normalize") {
      for item in items {
        if let name = item.scalar?.text, item.mapping == nil {
          switch name {
          case "trim": spec.normalizers.append(.trim)
          case "collapse-whitespace": spec.normalizers.append(.collapseWhitespace)
          case "json": spec.normalizers.append(.json)
          default:
            let names = ["trim", "collapse-whitespace", "json", "replace"]
            var message =
              "unknown normalizer '\(name)' (trim, collapse-whitespace, json, or {replace: REGEX, with: TEXT})"
            if let guess = closestMatch(to: name, in: names) {
              message = "unknown normalizer '\(name)'; did you mean '\(guess)'?"
            }
            r.error(message, at: item)
          }
        } else if let rm = r.map(item, "golden.normalize item", allowed: ["replace", "with"]) {
          guard let pattern = rm["replace"] else {
            r.error("a replace normalizer needs 'replace: REGEX'", at: item)
            continue
          }
          let with = rm["with"].flatMap { r.string($0, "with") } ?? ""
          if let regex = r.regex(pattern, "golden.normalize.replace", { s, _ in s }) {
            spec.normalizers.append(.replace(regex, with: with))
          }
        }
      }
    }
    return spec
  }
}

extension NodeReader {
  /// A `defaults:` map (a suite's or the config's): the keys a test may inherit, each problem reported.
  mutating func defaults(_ d: YAMLNode) -> [(key: String, value: YAMLNode)] {
    guard let pairs = d.mapping else {
      error("defaults must be a map, found \(d.kindDescription)", at: d)
      return []
    }
    var out: [(key: String, value: YAMLNode)] = []
    for pair in pairs {
      let key = pair.key.scalar?.text ?? ""
      if SuiteLoader.defaultsKeys.contains(key) {
        out.append((key, pair.value))
      } else if SuiteLoader.notInDefaults.contains(key) {
        error("'\(key)' cannot be set in defaults; set it on each test", at: pair.key)
      } else {
        unknownKey(key, at: pair.key, in: "defaults", allowed: SuiteLoader.defaultsKeys)
      }
    }
    return out
  }
}
