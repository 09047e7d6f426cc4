/// One step of a case, in the order they happened (README "Steps"): a model call and its
/// answer, a tool call and its result, a user turn, or a call the team's own app made. Today's
/// single request is a one-step case; agent loops, conversations and app targets are cases of
/// more steps.
package struct Step: Sendable {
  package enum Kind: String, Sendable, CaseIterable {
    /// A chat-completions call and the model's answer.
    case model
    /// A tool call the model made, answered by a mock, a command or an MCP server.
    case tool
    /// A user turn (scripted, or written by a simulated user).
    case user
    /// A model call the app under test made itself.
    case app
    /// The exchange with the app under test itself: its HTTP request and answer, or its
    /// command's input and output (README "Testing your app").
    case target
  }

  /// What came back.
  package enum Answer: Sendable {
    /// A model's (or an app's model call's) answer.
    case completion(Completion)
    /// A tool's result.
    case toolResult(ToolResult)
    /// A user turn's text.
    case text(String)
  }

  /// A tool call's result and where it came from.
  package struct ToolResult: Sendable, Equatable {
    /// The call it answers (`tool_calls[i].id`).
    package var callID: String?
    package var name: String
    /// The arguments as the model wrote them.
    package var arguments: String
    /// The result's text, as it is sent back in the `role: tool` message.
    package var content: String
    /// `mock`, `exec` or `mcp:SERVER`.
    package var source: String

    package init(callID: String?, name: String, arguments: String, content: String, source: String) {
      self.callID = callID
      self.name = name
      self.arguments = arguments
      self.content = content
      self.source = source
    }
  }

  package var kind: Kind
  /// What was sent: a model step's request body, a tool step's `{name, arguments}`; `.null` for
  /// the first model step of a case, whose request is the case's own (`PlannedCase.request`) and
  /// is not held twice.
  package var request: JSON
  /// Nil when the step failed (the case's outcome says why).
  package var answer: Answer?
  /// How long the step took (for a replay: as recorded).
  package var durationMS: Int
  /// The judge calls made about this step's answer (grader and embeddings), their usage summed.
  package var judgeUsage: Completion.Usage?
  /// A simulated user's turn: the simulator call's tokens and cost (README "Conversations").
  package var simulatorUsage: Completion.Usage?

  package init(
    kind: Kind, request: JSON = .null, answer: Answer?, durationMS: Int, judgeUsage: Completion.Usage? = nil
  ) {
    self.kind = kind
    self.request = request
    self.answer = answer
    self.durationMS = durationMS
    self.judgeUsage = judgeUsage
  }

  /// A model step with the case's own request.
  package static func model(_ completion: Completion) -> Step {
    Step(kind: .model, answer: .completion(completion), durationMS: completion.latencyMS)
  }

  /// The model's answer, for a model or app step that has one.
  package var completion: Completion? {
    get {
      if case .completion(let c)? = answer { c } else { nil }
    }
    set { answer = newValue.map { .completion($0) } }
  }

  /// The step's own tokens and cost (its judges' are apart, in `judgeUsage`).
  package var usage: Completion.Usage? { completion?.usage }
}

extension [Step] {
  /// Where the answer the ordinary assertions check is: the last model (or app) step that answered.
  package var finalAnswerIndex: Int? { lastIndex { $0.completion != nil } }

  /// The time of the steps that answered (model and app calls) added up; nil when none did.
  package var answeredLatencyMS: Int? {
    // An app's answer took its own time, its model calls within it.
    if let target = last(where: { $0.kind == .target }) { return target.durationMS }
    let answered = filter { $0.completion != nil }
    return answered.isEmpty ? nil : answered.reduce(0) { $0 + $1.durationMS }
  }

  /// Every step's usage added up; nil when no step reports any.
  package var totalUsage: Completion.Usage? {
    compactMap(\.usage).reduce(nil) { sum, u in sum.map { $0.adding(u) } ?? u }
  }

  /// The trajectory's tool calls, in order, with their results.
  package var toolResults: [Step.ToolResult] {
    compactMap { if case .toolResult(let t)? = $0.answer { t } else { nil } }
  }

  /// The simulated user's calls' usage added up; nil when none reports any.
  package var simulatorUsage: Completion.Usage? {
    compactMap(\.simulatorUsage).reduce(nil) { sum, u in sum.map { $0.adding(u) } ?? u }
  }

  /// How many model calls the case made.
  package var modelCallCount: Int { count(where: { $0.kind == .model || $0.kind == .app }) }
}
