import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: files (README "Coming from promptfoo").
extension PromptfooImporter {

  mutating func copyFile(_ path: String, at node: YAMLNode) {
    guard let text = read(path) else {
      error("cannot read \(path) (paths are relative to the config's folder)", node)
      return
    }
    copied.append(("prompts/" + path, text))
  }

  /// The files matching a glob like `tests/*.yaml` (one `*` in the last part), sorted.
  func glob(_ pattern: String) -> [String] {
    let dir = (pattern as NSString).deletingLastPathComponent
    let name = (pattern as NSString).lastPathComponent
    let parts = name.components(separatedBy: "*")
    return list(dir).filter { f in
      guard f.hasPrefix(parts.first ?? ""), f.hasSuffix(parts.last ?? "") else { return false }
      return f.count >= (parts.first?.count ?? 0) + (parts.last?.count ?? 0)
    }.sorted().map { dir.isEmpty ? $0 : dir + "/" + $0 }
  }

  static func environmentReference(_ value: String) -> String? {
    let t = value.trimmingCharacters(in: .whitespaces)
    for (open, close) in [("{{ env.", " }}"), ("{{env.", "}}"), ("${", "}"), ("$", "")]
    where t.hasPrefix(open) && t.hasSuffix(close) {
      let name = String(t.dropFirst(open.count).dropLast(close.count)).trimmingCharacters(in: .whitespaces)
      if !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) { return name }
    }
    return nil
  }

  static func slug(_ text: String, taken: [String]) -> String {
    var s = slugify(text)
    if s.isEmpty { s = "p" }
    if s.unicodeScalars.count > 40 { s = String(String.UnicodeScalarView(s.unicodeScalars.prefix(40))) }
    var out = s
    var n = 2
    while taken.contains(out) {
      out = "\(s)-\(n)"
      n += 1
    }
    return out
  }

  static func with(_ o: JSONObject, _ key: String, _ value: JSON) -> JSONObject {
    var o = o
    o[key] = value
    return o
  }
}
