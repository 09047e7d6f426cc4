import Foundation
import PromptCheckCore

/// Turns one suite file into a validated `Suite` (README "Suite files"). Pure: text in,
/// suite and diagnostics out; `{{file:…}}` includes are read through `readFile`.
package enum SuiteLoader {
  package static let suiteKeys = [
    "description", "provider", "model", "providers", "models", "prompts", "system", "defaults", "mocks", "mcp", "tests",
    "target",
  ]
  package static let testKeys = [
    "name", "description", "tags", "vars", "matrix", "dataset", "messages", "prompt", "prompts", "system", "params",
    "assert", "golden", "repeat", "min_pass_rate", "skip", "only", "model", "provider", "providers", "models",
    "threshold", "transform", "mocks", "mcp", "loop", "turns", "on_turn_failure", "simulate", "target",
  ]
  static let notInDefaults = ["name", "matrix", "dataset", "repeat", "min_pass_rate", "skip", "only", "turns"]
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

/// Reads one suite file (`SuiteLoader.load`): the suite's keys here, a test's in `TestSpec.swift`,
/// its expansion into variants in `TestSpec+Expansion.swift`, messages and goldens in
/// `Messages+Parsing.swift`; the boxes its tests share are shared after loading (`Suite.swift`).
struct Loader: Sendable {
  var r = NodeReader()
  let file: String
  let suiteName: String
  let config: Config
  let readFile: @Sendable (String) -> String?
  var fileCache: [String: String?] = [:]
  /// Problems that do not stop the suite (said once per suite each).
  var warnings: [Diagnostic] = []
  /// The defaults' assertions and params, parsed once when they hold no template.
  var shared = SharedParses()

  init(file: String, suiteName: String, config: Config, readFile: @escaping @Sendable (String) -> String?) {
    self.file = file
    self.suiteName = suiteName
    self.config = config
    self.readFile = readFile
    r.judgeProviders = config.providers
    r.graderDefaults = config.grader
    r.simulatorDefaults = config.simulator
    r.embeddingDefaults = config.embeddings
  }

  /// What the suite level says, shared by its tests.
  struct SuiteContext {
    var provider: Provider?
    var model: String?
    var system: YAMLNode?
    var defaults: [String: YAMLNode] = [:]
    /// Suite-level `providers:`, `models:`, `prompts:` and `mocks:` (a test's or its defaults' win).
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
    for key in ["providers", "models", "prompts", "mocks", "mcp", "target"] { ctx.lists[key] = m[key] }
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
    var loaded = loadTests(items, ctx: ctx).compactMap { $0 }
    TestDefinition.Fields.shareAlikeBoxes(&loaded)
    for t in loaded.map(TestDefinition.init) {
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
  mutating func loadTests(_ items: [YAMLNode], ctx: SuiteContext) -> [TestDefinition.Fields?] {
    let parts = items.count >= 1024 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
    guard parts > 1 else { return items.enumerated().map { test($1, index: $0, ctx: ctx) } }
    let bounds = (0...parts).map { $0 * items.count / parts }
    let base = self
    let done = concurrentMap(parts) { p in
      var loader = base
      var tests: [TestDefinition.Fields?] = []
      tests.reserveCapacity(bounds[p + 1] - bounds[p])
      for k in bounds[p]..<bounds[p + 1] { tests.append(loader.test(items[k], index: k, ctx: ctx)) }
      return (loader: loader, tests: tests)
    }
    let warningsBefore = warnings.count
    var all: [TestDefinition.Fields?] = []
    all.reserveCapacity(items.count)
    for (loader, tests) in done {
      r.sink.append(contentsOf: loader.r.sink.diagnostics)
      if warnings.count == warningsBefore { warnings += loader.warnings[warningsBefore...] }
      shared.merge(loader.shared)
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

  /// One entry of `tests:`: read key family by key family into a `TestSpec`, then expanded into
  /// its variants. Nil when it has a problem (every problem is said).
  mutating func test(_ node: YAMLNode, index: Int, ctx: SuiteContext) -> TestDefinition.Fields? {
    guard let (keys, name, nameNode, slug) = testKeys(node, index: index, ctx: ctx) else { return nil }
    let errorsBefore = r.sink.diagnostics.count
    let (description, tags) = labels(keys, nameNode: nameNode)
    let answering = self.answering(keys, name: name, ctx: ctx)
    let versions = promptVersions(keys, ctx: ctx)
    let data = dataset(keys)
    var spec = TestSpec(
      name: name, nameNode: nameNode, slug: slug, keys: keys, context: ctx, description: description, tags: tags,
      answering: answering, versions: versions, data: data,
      chat: chatSpec(
        keys, name: name, nameNode: nameNode, hasVersions: !versions.isEmpty,
        conversation: keys.own["turns"] != nil || keys.pick("simulate") != nil
          || data.rows.contains { $0.vars.contains { $0.key == "turns" } }, ctx: ctx))
    spec.vars = vars(keys)
    spec.matrix = matrix(keys)
    if spec.combinationCount > SuiteLoader.maxMatrixCases {
      r.error(
        "matrix expands to \(spec.combinationCount) cases; the limit is \(SuiteLoader.maxMatrixCases)",
        at: keys.own["matrix"] ?? node)
      return nil
    }
    spec.paramPairs = paramPairs(keys)
    spec.asserts = assertSpec(keys)
    spec.gating = gating(keys)
    let variants = self.variants(of: spec, errorsBefore: errorsBefore)
    guard r.sink.diagnostics.count == errorsBefore, !variants.isEmpty else { return nil }
    if let openRouter = variants.first(where: { $0.provider.isOpenRouter })?.provider, warnings.isEmpty {
      warnDroppable(spec.paramPairs, provider: openRouter)
    }
    let g = spec.gating
    return .init(
      suite: suiteName, name: name, slug: slug, location: node.location, description: description, tags: tags,
      golden: g.golden, repeatCount: g.repeatCount, repeatMin: g.repeatMin, minPassRate: g.minPassRate,
      confidence: g.confidence, skip: g.skip, only: g.only, variants: variants)
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
