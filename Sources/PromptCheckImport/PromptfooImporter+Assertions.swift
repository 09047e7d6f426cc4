import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: assertions (README "Coming from promptfoo").
extension PromptfooImporter {

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
}
