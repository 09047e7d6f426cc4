import Foundation
import PromptCheckCore

extension Loader {
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
