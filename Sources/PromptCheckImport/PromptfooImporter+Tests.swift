import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: tests (README "Coming from promptfoo").
extension PromptfooImporter {

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
}
