import Foundation
import PromptCheckCore
import PromptCheckLoad

/// `import promptfoo`: conversations (README "Coming from promptfoo").
extension PromptfooImporter {

  /// Tests with the same `metadata.conversationId`, in order, become one test of turns.
  mutating func groupConversations(_ tests: [JSON], prompts: [Prompt]) -> [JSON] {
    var out: [JSON] = []
    var byID: [String: Int] = [:]
    for t in tests {
      guard let id = t["_conversation"]?.stringValue, case .text(_, let template, _)? = prompts.first else {
        out.append(t)
        continue
      }
      var vars: [String: String] = [:]
      for (k, v) in t["vars"]?.objectValue?.members ?? [] { vars[k] = v.stringValue ?? "" }
      var user = template
      for (k, v) in vars { user = user.replacingOccurrences(of: "{{\(k)}}", with: v) }
      var turn = JSONObject()
      turn["user"] = .string(
        user.replacingOccurrences(of: "{{_conversation}}", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
      if let a = t["assert"] { turn["assert"] = a }
      if let i = byID[id], case .object(var o) = out[i] {
        o["turns"] = .array((o["turns"]?.arrayValue ?? []) + [.object(turn)])
        out[i] = .object(o)
      } else {
        byID[id] = out.count
        out.append([
          "name": .string("conversation \(id)"), "turns": [.object(turn)], "_line": t["_line"] ?? 1, "_chat": true,
        ])
        plan.report.add(
          .approximated, "metadata.conversationId \(id)",
          at: SourceLocation(file: file, line: { if case .int(let l)? = t["_line"] { l } else { 1 } }(), column: 1),
          "one test of turns, each turn the prompt with that test's vars ({{_conversation}} removed: promptcheck sends the history itself)"
        )
      }
    }
    return out
  }
}
