import PromptCheckCore

/// Reads assertions in both forms: `{contains: "x", name:, on:}` and
/// promptfoo's `{type: contains, value: "x"}`; `not-` negates any kind.
extension NodeReader {
  typealias Render = (String, SourceLocation) -> String

  /// Keys every assertion may carry besides its kind.
  static let assertionMetaKeys = ["name", "on", "weight", "transform", "metric"]
  /// Keys promptfoo's long form puts beside `type` and `value` for the judged kinds.
  static let longFormJudgeKeys = ["threshold", "provider", "model", "params", "timeout_ms"]

  mutating func assertion(
    _ node: YAMLNode, index: Int, parent: Int? = nil, within: String = "", render: Render
  ) -> Assertion? {
    guard let pairs = node.mapping else {
      error("an assertion must be a map such as {contains: \"text\"}, found \(node.kindDescription)", at: node)
      return nil
    }
    let what = within + (parent.map { "assert[\($0)].any-of[\(index)]" } ?? "assert[\(index)]")
    var name: String?
    var subject: Assertion.Subject?
    var scope = Assertion.Scope.final
    var subjectNode: YAMLNode?
    var kindNode: YAMLNode?
    var kindText: String?
    var valueNode: YAMLNode?
    var weight = 1.0
    var metric: String?
    var transforms: [Transform] = []
    var extras: [YAMLNode.Pair] = []
    var hadUnknownKeys = false
    let isLongForm = pairs.contains { $0.key.scalar?.text == "type" }

    for pair in pairs {
      let key = pair.key.scalar?.text ?? ""
      switch key {
      case "name":
        name = string(pair.value, "\(what).name").map { render($0, pair.value.location) }
      case "on":
        subjectNode = pair.value
        if let s = strictString(pair.value, "\(what).on") {
          if let parsed = Self.onValue(s) {
            (scope, subject) = parsed
          } else {
            error(
              "\(what).on must be output, reasoning, response, trajectory, transcript, step[N] or turn[N] (optionally step[N].response), found '\(s)'",
              at: pair.value)
          }
        }
      case "weight":
        weight = number(pair.value, "\(what).weight", in: 0...1_000_000) ?? 1
      case "metric":
        metric = string(pair.value, "\(what).metric").map { render($0, pair.value.location) }
      case "transform":
        transforms = self.transforms(pair.value, "\(what).transform", render) ?? []
      case "type" where isLongForm:
        kindNode = pair.value
        kindText = strictString(pair.value, "\(what).type")
      case "value" where isLongForm:
        valueNode = pair.value
      case _ where isLongForm && Self.longFormJudgeKeys.contains(key):
        extras.append(pair)
      default:
        if isLongForm {
          unknownKey(
            key, at: pair.key, in: what, allowed: ["type", "value"] + Self.assertionMetaKeys + Self.longFormJudgeKeys)
          hadUnknownKeys = true
          continue
        }
        let base = key.hasPrefix("not-") ? String(key.dropFirst(4)) : key
        guard Assertion.Kind(rawValue: base) != nil else {
          let candidates = Assertion.Kind.names + Assertion.Kind.names.map { "not-" + $0 } + Self.assertionMetaKeys
          var message = "unknown assertion kind '\(key)'"
          if let guess = closestMatch(to: key, in: candidates) { message += "; did you mean '\(guess)'?" }
          error(message, at: pair.key)
          return nil
        }
        if let first = kindText {
          error("an assertion has exactly one kind; found '\(first)' and '\(key)'", at: pair.key)
          return nil
        }
        kindNode = pair.key
        kindText = key
        valueNode = pair.value
      }
    }
    guard let kindText, let kindNode else {
      error("\(what) names no assertion kind (e.g. contains, regex, json-path)", at: node)
      return nil
    }
    let negated = kindText.hasPrefix("not-")
    guard let kind = Assertion.Kind(rawValue: negated ? String(kindText.dropFirst(4)) : kindText) else {
      var message = "unknown assertion kind '\(kindText)'"
      if let guess = closestMatch(to: kindText, in: Assertion.Kind.names) { message += "; did you mean '\(guess)'?" }
      error(message, at: kindNode)
      return nil
    }
    if let subjectNode {
      switch scope {
      case .final where subject != nil && !kind.readsSubject,
        .step where subject != .output && !kind.readsSubject:
        error("'on' does not apply to \(kind.rawValue), which reads the response's metadata", at: subjectNode)
      case .trajectory where !kind.readsSubject, .transcript where !kind.readsSubject:
        error(
          "'on: \(scope == .transcript ? "transcript" : "trajectory")' does not apply to \(kind.rawValue), which does not read a text",
          at: subjectNode)
      case .step where kind.readsTrajectory, .turn where kind.readsTrajectory:
        error(
          "'on: \(scope == .turn(1) || subjectNode.scalar?.text.hasPrefix("turn") == true ? "turn" : "step")[N]' does not apply to \(kind.rawValue), which reads the whole case",
          at: subjectNode)
      case .turn where subject != .output && !kind.readsSubject:
        error("'on' does not apply to \(kind.rawValue), which reads the response's metadata", at: subjectNode)
      default:
        break
      }
    }
    if kind == .anyOf, parent != nil {
      error("any-of cannot hold another any-of; list every alternative in one", at: kindNode)
      return nil
    }
    let effectiveSubject = subject ?? .output
    var value: YAMLNode
    if let valueNode {
      value = valueNode
    } else if kind == .isJSON {
      value = YAMLNode(.scalar("true", .plain), at: kindNode.location)
    } else {
      if !hadUnknownKeys { error("\(what) (\(kind.rawValue)) needs a value", at: kindNode) }
      return nil
    }
    if !extras.isEmpty {
      guard let wrapped = longFormJudge(kind, value: value, extras: extras) else { return nil }
      value = wrapped
    }
    guard
      let check = check(
        kind: kind, value: value, subject: effectiveSubject, index: index, what: "\(what) (\(kindText))",
        render: render)
    else { return nil }
    var assertion = Assertion(
      kind: kind, negated: negated, check: check, subject: effectiveSubject, name: name, index: index,
      location: node.location, weight: weight, transforms: transforms, parent: parent, scope: scope)
    assertion.metric = metric
    return assertion
  }

  /// `on:`'s value: `output`, `reasoning`, `response`, `trajectory`, `step[N]` or `step[N].SUBJECT`.
  static func onValue(_ s: String) -> (Assertion.Scope, Assertion.Subject)? {
    if s == "trajectory" { return (.trajectory, .output) }
    if s == "transcript" { return (.transcript, .output) }
    if let subject = Assertion.Subject(rawValue: s) { return (.final, subject) }
    let isTurn = s.hasPrefix("turn[")
    guard s.hasPrefix("step[") || isTurn, let close = s.firstIndex(of: "]") else { return nil }
    let digits = s[s.index(s.startIndex, offsetBy: 5)..<close]
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.count <= 6,
      let n = Int(digits), n >= 1
    else { return nil }
    let rest = s[s.index(after: close)...]
    let scope: Assertion.Scope = isTurn ? .turn(n) : .step(n)
    if rest.isEmpty { return (scope, .output) }
    guard rest.hasPrefix("."), let subject = Assertion.Subject(rawValue: String(rest.dropFirst())) else { return nil }
    return (scope, subject)
  }

  /// promptfoo's `{type: llm-rubric, value: …, threshold: …}`: the same as the short form's map
  /// (`{llm-rubric: {rubric: …, threshold: …}}`); nil when the extra keys do not apply to the kind.
  private mutating func longFormJudge(_ kind: Assertion.Kind, value: YAMLNode, extras: [YAMLNode.Pair]) -> YAMLNode? {
    let valueKey: String
    switch kind {
    case .llmRubric: valueKey = "rubric"
    case .similar: valueKey = "value"
    case .exec: valueKey = "command"
    default:
      for pair in extras {
        error("'\(pair.key.scalar?.text ?? "")' does not apply to \(kind.rawValue)", at: pair.key)
      }
      return nil
    }
    return YAMLNode(
      .mapping([YAMLNode.Pair(key: YAMLNode(.scalar(valueKey, .plain), at: value.location), value: value)] + extras),
      at: value.location)
  }

  private mutating func text(_ node: YAMLNode, _ what: String, _ render: Render) -> String? {
    string(node, what).map { render($0, node.location) }
  }

  private mutating func check(
    kind: Assertion.Kind, value: YAMLNode, subject: Assertion.Subject, index: Int, what: String, render: Render
  ) -> Assertion.Check? {
    switch kind {
    case .llmRubric: return rubric(value, what, render).map { .llmRubric($0) }
    case .similar: return similarity(value, what, render).map { .similar($0) }
    case .exec: return execCommand(value, what, render).map { .exec($0) }
    case .anyOf:
      guard let items = list(value, what) else { return nil }
      if items.isEmpty {
        error("\(what) needs at least one assertion", at: value)
        return nil
      }
      let before = sink.diagnostics.count
      let members = items.enumerated().compactMap { k, item in
        assertion(item, index: k, parent: index, render: render)
      }
      return sink.diagnostics.count == before ? .anyOf(members) : nil
    case .equals:
      if subject == .response { return .equals(json(value, render: render)) }
      return text(value, what, render).map { .equals(.string($0)) }
    case .contains: return text(value, what, render).map { .contains($0) }
    case .icontains: return text(value, what, render).map { .icontains($0) }
    case .startsWith: return text(value, what, render).map { .startsWith($0) }
    case .endsWith: return text(value, what, render).map { .endsWith($0) }
    case .containsAny, .containsAll, .icontainsAny, .icontainsAll:
      guard let items = stringList(value, what) else { return nil }
      if items.isEmpty {
        error("\(what) needs at least one string", at: value)
        return nil
      }
      let rendered = items.map { render($0, value.location) }
      switch kind {
      case .containsAny: return .containsAny(rendered)
      case .containsAll: return .containsAll(rendered)
      case .icontainsAny: return .icontainsAny(rendered)
      default: return .icontainsAll(rendered)
      }
    case .levenshtein:
      // `{value, max}` (max default 5, as promptfoo's threshold).
      guard let m = map(value, what, allowed: ["value", "max"]) else { return nil }
      guard let v = m["value"], let text = text(v, "\(what).value", render) else {
        if m["value"] == nil { error("\(what) needs value, the text to compare with", at: value) }
        return nil
      }
      let limit = m["max"].flatMap { int($0, "\(what).max", min: 0) } ?? 5
      return .levenshtein(value: text, max: limit)
    case .wordCount:
      if value.scalar != nil { return int(value, what, min: 0).map { .wordCount(min: $0, max: $0) } }
      guard let m = map(value, what, allowed: ["min", "max"]) else { return nil }
      let lo = m["min"].flatMap { int($0, "\(what).min", min: 0) }
      let hi = m["max"].flatMap { int($0, "\(what).max", min: 0) }
      if m.isEmpty { error("\(what) needs min, max or both", at: value) }
      if let lo, let hi, lo > hi { error("\(what): min (\(lo)) is greater than max (\(hi))", at: value) }
      return .wordCount(min: lo, max: hi)
    case .containsJSON:
      if case .bool(true)? = value.resolved { return .containsJSON(nil) }
      if value.mapping == nil {
        error("\(what) must be true or a JSON Schema map, found \(value.kindDescription)", at: value)
        return nil
      }
      return schema(value, what, render).map { .containsJSON($0) }
    case .regex:
      return regex(value, what, render).map { .regex($0) }
    case .length:
      guard let m = map(value, what, allowed: ["min", "max"]) else { return nil }
      let lo = m["min"].flatMap { int($0, "\(what).min", min: 0) }
      let hi = m["max"].flatMap { int($0, "\(what).max", min: 0) }
      if m.isEmpty { error("\(what) needs min, max or both", at: value) }
      if let lo, let hi, lo > hi { error("\(what): min (\(lo)) is greater than max (\(hi))", at: value) }
      return .length(min: lo, max: hi)
    case .isJSON:
      if case .bool(true)? = value.resolved { return .isJSON(nil) }
      if value.mapping == nil {
        error("\(what) must be true or a JSON Schema map, found \(value.kindDescription)", at: value)
        return nil
      }
      return schema(value, what, render).map { .isJSON($0) }
    case .jsonPath:
      return jsonPathCheck(value, what, render).map { .jsonPath($0) }
    case .finishReason:
      return text(value, what, render).map { .finishReason($0) }
    case .toolCall:
      guard let m = map(value, what, allowed: ["name", "arguments"]) else { return nil }
      guard let nameNode = m["name"] else {
        error("\(what) needs the function's name", at: value)
        return nil
      }
      let name = text(nameNode, "\(what).name", render)
      var checks: [JSONPathCheck] = []
      if let argsNode = m["arguments"], let items = list(argsNode, "\(what).arguments") {
        for (k, item) in items.enumerated() {
          // Both spellings: `- {path, equals}` and the assertion's own `- json-path: {path, equals}`.
          var check = item
          if let pairs = item.mapping, pairs.count == 1, pairs[0].key.scalar?.text == "json-path" {
            check = pairs[0].value
          }
          if let c = jsonPathCheck(check, "\(what).arguments[\(k)]", render) { checks.append(c) }
        }
      }
      return name.map { .toolCall(name: $0, arguments: checks) }
    case .maxLatencyMS:
      return int(value, what, min: 0).map { .maxLatencyMS($0) }
    case .maxTokens:
      guard let m = map(value, what, allowed: ["prompt", "completion", "total", "reasoning", "cached"]) else {
        return nil
      }
      if m.isEmpty { error("\(what) needs prompt, completion, total, reasoning or cached", at: value) }
      return .maxTokens(
        prompt: m["prompt"].flatMap { int($0, "\(what).prompt", min: 0) },
        completion: m["completion"].flatMap { int($0, "\(what).completion", min: 0) },
        total: m["total"].flatMap { int($0, "\(what).total", min: 0) },
        reasoning: m["reasoning"].flatMap { int($0, "\(what).reasoning", min: 0) },
        cached: m["cached"].flatMap { int($0, "\(what).cached", min: 0) })
    case .maxCost:
      return number(value, what, in: 0...Double.greatestFiniteMagnitude).map { .maxCost($0) }
    case .servedModel:
      return regex(value, what, render).map { .servedModel($0) }
    case .servedProvider:
      if value.sequence != nil {
        guard let names = stringList(value, what) else { return nil }
        if names.isEmpty { error("\(what) needs at least one provider name", at: value) }
        return .servedProvider(names)
      }
      return strictString(value, what).map { .servedProvider([$0]) }
    case .toolSequence, .toolUsed, .stepCount, .turnCount, .endedBy:
      return trajectoryCheck(kind, value, what, render)
    }
  }

  /// A regex: a pattern string or `{pattern, flags}`; compiled now so a bad one is a load error.
  mutating func regex(_ node: YAMLNode, _ what: String, _ render: Render) -> CompiledRegex? {
    var pattern: String?
    var flags = ""
    var at = node
    if node.mapping != nil {
      guard let m = map(node, what, allowed: ["pattern", "flags"]) else { return nil }
      guard let p = m["pattern"] else {
        error("\(what) needs a pattern", at: node)
        return nil
      }
      at = p
      pattern = text(p, "\(what).pattern", render)
      if let f = m["flags"] { flags = strictString(f, "\(what).flags") ?? "" }
    } else {
      pattern = text(node, what, render)
    }
    guard let pattern else { return nil }
    let key = flags + "\u{0}" + pattern
    if let cached = regexCache[key] { return cached }
    do {
      let compiled = try CompiledRegex(pattern, flags: flags)
      regexCache[key] = compiled
      return compiled
    } catch {
      self.error("\(what): \(error.message)", at: at)
      return nil
    }
  }

  mutating func jsonPath(_ node: YAMLNode, _ what: String, _ render: Render) -> JSONPath? {
    guard let expr = text(node, what, render) else { return nil }
    if let cached = pathCache[expr] { return cached }
    do {
      let path = try JSONPath(expr)
      pathCache[expr] = path
      return path
    } catch {
      // Point at the offending character when the expression is on one line of the file.
      var location = node.location
      if node.scalar?.style == .plain, !expr.contains("\n") { location.column += error.offset }
      self.error("\(what): \(error.description) in '\(expr)'", at: location)
      return nil
    }
  }

  mutating func jsonPathCheck(_ node: YAMLNode, _ what: String, _ render: Render) -> JSONPathCheck? {
    if node.scalar != nil {
      return jsonPath(node, what, render).map { JSONPathCheck(path: $0, comparison: .nonEmpty) }
    }
    let comparisons = ["equals", "contains", "matches", "count", "exists"]
    guard let m = map(node, what, allowed: ["path"] + comparisons) else { return nil }
    guard let pathNode = m["path"] else {
      error("\(what) needs a path", at: node)
      return nil
    }
    let path = jsonPath(pathNode, "\(what).path", render)
    let given = comparisons.filter { m[$0] != nil }
    if given.count > 1 {
      error(
        "\(what) takes one of equals, contains, matches, count or exists; found \(given.joined(separator: " and "))",
        at: node)
      return nil
    }
    var comparison: JSONPathCheck.Comparison = .nonEmpty
    if let c = given.first, let v = m[c] {
      switch c {
      case "equals": comparison = .equals(json(v, render: render))
      case "contains": comparison = .contains(json(v, render: render))
      case "matches":
        guard let r = regex(v, "\(what).matches", render) else { return nil }
        comparison = .matches(r)
      case "count":
        guard let n = int(v, "\(what).count", min: 0) else { return nil }
        comparison = .count(n)
      default:
        guard let b = bool(v, "\(what).exists") else { return nil }
        comparison = .exists(b)
      }
    }
    return path.map { JSONPathCheck(path: $0, comparison: comparison) }
  }

  mutating func schema(_ node: YAMLNode, _ what: String, _ render: Render) -> JSONSchema? {
    guard let pairs = node.mapping else {
      error("\(what) must be a JSON Schema map, found \(node.kindDescription)", at: node)
      return nil
    }
    var m: [String: YAMLNode] = [:]
    for p in pairs {
      let key = p.key.scalar?.text ?? ""
      if JSONSchema.keywords.contains(key) {
        m[key] = p.value
      } else if !JSONSchema.annotations.contains(key) {
        var message = "unsupported JSON Schema keyword '\(key)' in \(what)"
        if let guess = closestMatch(to: key, in: JSONSchema.keywords) {
          message += "; did you mean '\(guess)'?"
        } else {
          message += " (supported: \(JSONSchema.keywords.joined(separator: ", ")))"
        }
        error(message, at: p.key)
      }
    }
    var types: [String]?
    if let t = m["type"] {
      let names = t.sequence != nil ? stringList(t, "\(what).type") : strictString(t, "\(what).type").map { [$0] }
      for n in names ?? [] where !JSONSchema.typeNames.contains(n) {
        error("unknown JSON Schema type '\(n)' (types: \(JSONSchema.typeNames.joined(separator: ", ")))", at: t)
      }
      types = names
    }
    var properties: [(name: String, schema: JSONSchema)] = []
    if let p = m["properties"], let pm = p.mapping {
      for pair in pm {
        let key = pair.key.scalar?.text ?? ""
        if let s = schema(pair.value, "\(what).properties.\(key)", render) { properties.append((key, s)) }
      }
    } else if let p = m["properties"] {
      error("\(what).properties must be a map, found \(p.kindDescription)", at: p)
    }
    let additional: JSONSchema.Additional
    if let a = m["additionalProperties"] {
      if case .bool(let b)? = a.resolved {
        additional = b ? .allowed : .forbidden
      } else if let s = schema(a, "\(what).additionalProperties", render) {
        additional = .schema(s)
      } else {
        additional = .allowed
      }
    } else {
      additional = .allowed
    }
    return JSONSchema(
      types: types, properties: properties,
      required: m["required"].flatMap { stringList($0, "\(what).required") } ?? [],
      items: m["items"].flatMap { schema($0, "\(what).items", render) },
      enumValues: m["enum"].flatMap { list($0, "\(what).enum") }.map { $0.map { json($0, render: render) } },
      constValue: m["const"].map { json($0, render: render) },
      minimum: m["minimum"].flatMap { number($0, "\(what).minimum") },
      maximum: m["maximum"].flatMap { number($0, "\(what).maximum") },
      minLength: m["minLength"].flatMap { int($0, "\(what).minLength", min: 0) },
      maxLength: m["maxLength"].flatMap { int($0, "\(what).maxLength", min: 0) },
      pattern: m["pattern"].flatMap { regex($0, "\(what).pattern", render) },
      additionalProperties: additional)
  }
}
