import Foundation

/// One suite file (README "Suite files").
package struct Suite: Sendable {
  /// Path under the tests dir without extension, e.g. `support/refunds`.
  package var name: String
  /// The file as it was named when loading (used in diagnostics and reports).
  package var file: String
  package var description: String?
  package var tests: [TestDefinition]

  /// Its cases: each test's variants, times its repetitions.
  package var caseCount: Int { tests.reduce(0) { $0 + $1.variants.count * ($1.repeatCount ?? 1) } }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(name: String, file: String, description: String? = nil, tests: [TestDefinition]) {
    self.name = name
    self.file = file
    self.description = description
    self.tests = tests
  }
}

/// An immutable value shared by reference: the large values a plan holds once per test and
/// variant, not once per case (every planned case copies 8 bytes, not the value).
package final class FieldBox<Value: Sendable>: Sendable {
  package let value: Value
  package init(_ value: Value) { self.value = value }

  /// One field, read where it is kept (`value[keyPath:]` on a copy of `value` copied every field).
  package func read<T>(_ field: KeyPath<Value, T>) -> T { value[keyPath: field] }
}

/// A value whose fields live in a `FieldBox`: read through dynamic member lookup; a change
/// makes a new box, so the values that share the old one keep it as it was.
package protocol BoxedFields {
  associatedtype Fields: Sendable
  var box: FieldBox<Fields> { get set }
}

extension BoxedFields {
  package subscript<T>(dynamicMember field: WritableKeyPath<Fields, T>) -> T {
    get { box.read(field) }
    set {
      var fields = box.value
      fields[keyPath: field] = newValue
      box = FieldBox(fields)
    }
  }
}

/// One entry of `tests:`, with defaults merged in and its matrix expanded into variants. Its
/// fields live in one shared box (`Fields`): the cases planned from it refer to it, and a change
/// (rare after loading) makes a new box.
@dynamicMemberLookup
package struct TestDefinition: Sendable, BoxedFields {
  package var box: FieldBox<Fields>

  package init(_ fields: Fields) { box = FieldBox(fields) }

  /// The fields most tests leave out (`Fields.Rare`), read and set like the others.
  package subscript<T>(dynamicMember field: WritableKeyPath<Fields.Rare, T?>) -> T? {
    get { box.value.rare?.value[keyPath: field] }
    set {
      var fields = box.value
      var rare = fields.rare?.value ?? Fields.Rare()
      rare[keyPath: field] = newValue
      fields.rare = rare.isEmpty ? nil : FieldBox(rare)
      box = FieldBox(fields)
    }
  }

  package struct Fields: Sendable {
    package var suite: String
    package var name: String
    package var slug: String
    package var location: SourceLocation
    package var tags: [String]
    package var only: Bool
    /// One per matrix combination (a single variant when there is no matrix).
    package var variants: [TestVariant]
    /// What most tests leave out, held apart so a test that gives none of it costs a word.
    fileprivate var rare: FieldBox<Rare>?

    package init(
      suite: String, name: String, slug: String, location: SourceLocation, description: String? = nil,
      tags: [String] = [], golden: GoldenSpec? = nil, repeatCount: Int? = nil, repeatMin: Int? = nil,
      minPassRate: Double? = nil, confidence: Double? = nil, skip: String? = nil, only: Bool = false,
      variants: [TestVariant]
    ) {
      self.suite = suite
      self.name = name
      self.slug = slug
      self.location = location
      self.tags = tags
      self.only = only
      self.variants = variants
      let rare = Rare(
        description: description, golden: golden, repeatCount: repeatCount, repeatMin: repeatMin,
        minPassRate: minPassRate, confidence: confidence, skip: skip)
      self.rare = rare.isEmpty ? nil : FieldBox(rare)
    }

    /// Read and set through the test as if they were its own fields (`test.repeatCount`).
    package struct Rare: Sendable {
      package var description: String?
      package var golden: GoldenSpec?
      /// `repeat: N`, or the `max` of `repeat: {min, max}`.
      package var repeatCount: Int?
      /// The `min` of `repeat: {min, max}`: samples are drawn until the SPRT decides (adaptive repeats).
      package var repeatMin: Int?
      package var minPassRate: Double?
      /// `min_pass_rate: {rate, confidence}`: the gate is the Wilson lower bound at this confidence.
      package var confidence: Double?
      package var skip: String?

      var isEmpty: Bool {
        description == nil && golden == nil && repeatCount == nil && repeatMin == nil && minPassRate == nil
          && confidence == nil && skip == nil
      }
    }
  }
}

/// A test with one combination of matrix values, templates rendered. Its user prompt (or its
/// messages) is its own; everything else is in a box that the variants answering alike share:
/// the tests of a suite that take only its defaults hold one box between them.
@dynamicMemberLookup
package struct TestVariant: Sendable, BoxedFields {
  package var chat: Chat
  package var box: FieldBox<Fields>

  package init(chat: Chat, _ fields: Fields) {
    self.chat = chat
    box = FieldBox(fields)
  }

  package init(chat: Chat, sharing box: FieldBox<Fields>) {
    self.chat = chat
    self.box = box
  }

  /// A case of more than one step: a tool loop or a conversation (its cassette lists steps).
  package var isMultiStep: Bool { box.value.isMultiStep }

  /// Chat messages in the OpenAI shape, `system` first when given.
  package var messages: [JSON] {
    get {
      switch chat {
      case .prompt(let user):
        let prompt = JSON.object(JSONObject(distinct: [("role", "user"), ("content", .string(user))]))
        guard let system = box.value.system else { return [prompt] }
        return [.object(JSONObject(distinct: [("role", "system"), ("content", .string(system))])), prompt]
      case .messages(let list): return list
      }
    }
    set { chat = .messages(newValue) }
  }

  package struct Fields: Sendable {
    /// The matrix values of this variant, in the order the matrix lists its keys.
    package var matrix: [(key: String, value: String)]
    package var vars: [String: String]
    /// The system text that goes before a `.prompt` chat's user prompt.
    package var system: String?
    /// Request parameters, in the order the suite gives them.
    package var params: JSONObject
    package var assertions: [Assertion]
    /// Who answers this variant (a templated or listed model or provider makes them differ).
    package var provider: Provider
    package var model: String
    /// `provider:model` when the suite compares targets (`providers:`/`models:` lists or
    /// `--provider`/`--model`): it is in the case id (`…@local:smollm2`) and the file names.
    package var target: String?
    /// `threshold:`: the weighted score of the assertions that passes the test (README "Weights and
    /// threshold"); nil: every assertion of non-zero weight must pass.
    package var threshold: Double? = nil
    /// `transform:` of the test: shapes the output before every assertion on the output.
    package var transforms: [Transform] = []
    /// A looped case's mocks and limits (README "Agents: tool loops"); nil for a single request.
    package var loop: ToolLoop? = nil
    /// A conversation case's turns and simulated user (README "Conversations"); nil otherwise.
    package var conversation: Conversation? = nil
    /// `target:`: the app that answers instead of a provider (README "Testing your app").
    package var appTarget: AppTarget? = nil

    /// A case of more than one step: a tool loop, a conversation, or an app whose model calls are
    /// steps (its cassette lists steps).
    package var isMultiStep: Bool { loop != nil || conversation != nil || appTarget != nil }

    /// Every stored property (the memberwise initializer, visible to the package).
    package init(
      matrix: [(key: String, value: String)], vars: [String: String], system: String?, params: JSONObject,
      assertions: [Assertion], provider: Provider, model: String, target: String?, threshold: Double? = nil,
      transforms: [Transform] = [], loop: ToolLoop? = nil, conversation: Conversation? = nil,
      appTarget: AppTarget? = nil
    ) {
      self.matrix = matrix
      self.vars = vars
      self.system = system
      self.params = params
      self.assertions = assertions
      self.provider = provider
      self.model = model
      self.target = target
      self.threshold = threshold
      self.transforms = transforms
      self.loop = loop
      self.conversation = conversation
      self.appTarget = appTarget
    }

    /// Whether a variant with these fields may share `other`'s box: exactly the same values (texts
    /// by code points; `1` and `1.0` differ), the params, assertions and transforms the same parsed
    /// lists (a suite's defaults are parsed once), the same provider. Sharing only saves memory, so
    /// anything unsure says no.
    package func answersAlike(_ other: Fields) -> Bool {
      func sameList<T>(_ a: [T], _ b: [T]) -> Bool {
        a.isEmpty && b.isEmpty
          || a.withUnsafeBufferPointer { p in b.withUnsafeBufferPointer { $0.baseAddress == p.baseAddress } }
      }
      func same(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return sameCodePoints(a, b)
      }
      return sameList(matrix, other.matrix) && sameList(params.members, other.params.members)
        && sameList(assertions, other.assertions) && sameList(transforms, other.transforms)
        && provider.box === other.provider.box && same(model, other.model) && same(target, other.target)
        && same(system, other.system) && threshold?.bitPattern == other.threshold?.bitPattern
        && loop == nil && other.loop == nil && conversation == nil && other.conversation == nil && appTarget == nil
        && other.appTarget == nil
        && vars.count == other.vars.count
        && zip(vars, other.vars).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
    }
  }
}

// MARK: Sharing

/// The values a suite's tests take from its defaults unchanged, parsed once (keyed by where the
/// defaults' list or map starts) so that every test holds the same list: the sharing pass below
/// compares them by identity.
package struct SharedParses: Sendable {
  package var params: [String: JSONObject] = [:]
  package var assertions: [String: [Assertion]] = [:]

  package init() {}

  /// Takes the other's entries for keys this one lacks (the first parse of each key wins).
  package mutating func merge(_ other: SharedParses) {
    params.merge(other.params) { a, _ in a }
    assertions.merge(other.assertions) { a, _ in a }
  }
}

extension TestDefinition.Fields {
  /// The sharing pass, once after a suite is loaded: going through its variants in order, each
  /// one whose fields answer alike the last kept box (`TestVariant.Fields.answersAlike`) takes
  /// that box, so the tests that only take the defaults hold one box between them.
  package static func shareAlikeBoxes(_ tests: inout [TestDefinition.Fields]) {
    var last: FieldBox<TestVariant.Fields>?
    for t in tests.indices {
      for v in tests[t].variants.indices {
        let box = tests[t].variants[v].box
        if let last, last !== box, last.value.answersAlike(box.value) {
          tests[t].variants[v].box = last
        } else {
          last = box
        }
      }
    }
  }
}

/// A variant's own messages: a `prompt:` test (a plan may hold 100,000 of them) keeps its user
/// prompt as text and builds the messages when asked; `messages:` are kept as given.
package enum Chat: Sendable {
  case prompt(String)
  case messages([JSON])

  package var isPrompt: Bool { if case .prompt = self { true } else { false } }
}

/// `golden: true` or `golden: {on, normalize}` (README "Goldens").
package struct GoldenSpec: Sendable {
  package var subject: Assertion.Subject
  package var normalizers: [Normalizer]

  package enum Normalizer: Sendable {
    case trim
    case collapseWhitespace
    case json
    case replace(CompiledRegex, with: String)
  }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(subject: Assertion.Subject, normalizers: [Normalizer]) {
    self.subject = subject
    self.normalizers = normalizers
  }
}

/// Makes a test's slug (README "Files and layout"): compatibility-decomposed (NFKD), marks
/// dropped, lower-cased; letters and digits of any script are kept, every other run of
/// characters becomes one `-`, trimmed of `-`. `Café crème` → `cafe-creme`, `日本語` → `日本語`;
/// ASCII names give what they always gave.
package func slugify(_ s: String) -> String {
  // ASCII names (most) need no Unicode tables: letters lower-cased, digits kept, runs of the rest one `-`.
  if s.utf8.allSatisfy({ $0 < 0x80 }) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(s.utf8.count)
    var pendingDash = false
    for b in s.utf8 {
      let lower = b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
      if (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
        || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
      {
        if pendingDash && !bytes.isEmpty { bytes.append(UInt8(ascii: "-")) }
        pendingDash = false
        bytes.append(lower)
      } else {
        pendingDash = true
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
  return slugifyUnicode(s)
}

/// `slugify` by the Unicode tables, for any name.
func slugifyUnicode(_ s: String) -> String {
  var out = ""
  var pendingDash = false
  for u in s.decomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
    let p = u.properties
    if p.generalCategory == .nonspacingMark || p.generalCategory == .enclosingMark
      || p.generalCategory == .spacingMark
    {
      continue
    }
    if p.isAlphabetic || p.numericType == .decimal {
      if pendingDash && !out.isEmpty { out += "-" }
      pendingDash = false
      out.unicodeScalars.append(u)
    } else {
      pendingDash = true
    }
  }
  // Composed again, so a script whose letters decompose (Hangul) keeps its usual form.
  return out.precomposedStringWithCanonicalMapping
}
