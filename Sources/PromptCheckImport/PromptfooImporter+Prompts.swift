import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: prompts (README "Coming from promptfoo").
extension PromptfooImporter {

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
}
