import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

/// A loopback server that answers the cases ("Echo: …"), grades (`response_format` or a grader
/// system prompt) and embeds, each as the test scripts it.
struct JudgeServer {
  /// Which verdict formats the grader takes; a refused one gets `refusal`.
  var accepts: Set<String> = ["json_schema", "json_object", "text"]
  var refusal: (status: Int, message: String) = (400, "response_format json_schema is not supported")
  /// The grader's reply content.
  var verdict: @Sendable (_ rubric: String, _ output: String) -> String = { _, _ in
    #"{"pass": true, "score": 0.9, "reason": "it is polite"}"#
  }
  /// Known embeddings by text (anything else is [0, 0, 1]).
  var vectors: [String: [Double]] = [:]
  /// 429 on the grader's first attempt.
  var rateLimitGraderOnce = false
  var answer: @Sendable (_ prompt: String) -> String = { "Echo: " + $0 }

  var handler: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply {
    let graderCalls = Atomic<Int>(0)
    return { request, _ in
      let json = request.json
      if request.path.hasSuffix("/embeddings") {
        let input =
          json?["input"]?.stringValue.map { [$0] } ?? json?["input"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let data: [JSON] = input.enumerated().map { i, text in
          [
            "object": "embedding", "index": .int(i),
            "embedding": .array((vectors[text] ?? [0, 0, 1]).map(JSON.double)),
          ]
        }
        return .json(["object": "list", "data": .array(data), "usage": ["prompt_tokens": 8, "total_tokens": 8]])
      }
      let messages = json?["messages"]?.arrayValue ?? []
      let isGrader = messages.first?["content"]?.stringValue == Judging.graderInstructions
      guard isGrader else { return .json(FakeOpenAI.completion(answer(messages.last?["content"]?.stringValue ?? ""))) }
      let n = graderCalls.add(1, ordering: .sequentiallyConsistent).newValue
      if rateLimitGraderOnce && n == 1 {
        return .json(["error": ["message": "rate limited", "code": 429]], status: 429, headers: [("Retry-After", "0")])
      }
      let format = json?["response_format"]?["type"]?.stringValue ?? "text"
      guard accepts.contains(format) else {
        return .json(["error": ["message": .string(refusal.message)]], status: refusal.status)
      }
      let user = messages.last?["content"]?.stringValue ?? ""
      func between(_ a: String, _ b: String) -> String {
        guard let s = user.range(of: a), let e = user.range(of: b, range: s.upperBound..<user.endIndex) else {
          return ""
        }
        return String(user[s.upperBound..<e.lowerBound])
      }
      let content = verdict(between("<rubric>\n", "\n</rubric>"), between("<output>\n", "\n</output>"))
      return .json(
        FakeOpenAI.completion(
          content, model: "grader-model",
          usage: ["prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, "cost": 0.001]))
    }
  }
}
