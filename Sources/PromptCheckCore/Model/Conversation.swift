import Foundation

/// A conversation case (README "Conversations"): scripted user turns, a simulated user, or
/// scripted turns the simulator then carries on. Turn N is the N-th user message the case
/// answers; turn 1's is the last message of the case's own request (its `prompt`, its first
/// scripted turn, or the simulator's `first_message`), so a conversation's first step is an
/// ordinary first model call.
package struct Conversation: Sendable {
  /// One scripted turn: the user's message and the checks on the reply to it.
  package struct Turn: Sendable {
    /// The user's message, rendered with the case's vars.
    package var user: String
    /// Each labelled `turn N assert[i]`; checked on turn N's reply.
    package var assertions: [Assertion]
    /// `golden:` of the turn: its reply against `<case>.turn-N.txt`.
    package var golden: GoldenSpec?
    package var location: SourceLocation

    package init(user: String, assertions: [Assertion], golden: GoldenSpec? = nil, location: SourceLocation) {
      self.user = user
      self.assertions = assertions
      self.golden = golden
      self.location = location
    }
  }

  /// `on_turn_failure`: whether a turn whose checks fail ends the conversation.
  package enum OnFailure: String, Sendable, CaseIterable {
    case stop
    case `continue`
  }

  /// How a conversation ended (`ended-by`).
  package enum Ending: String, Sendable, CaseIterable {
    /// The simulated user said its stop marker.
    case stop
    /// The simulated user reached `max_turns` user turns.
    case maxTurns = "max_turns"
    /// The scripted turns ran out (no simulator).
    case script
    /// A turn's checks failed and `on_turn_failure: stop` ended it there.
    case turnFailure = "turn_failure"
  }

  /// `turns[0]` is turn 1, whose message is already in the case's request; the rest are sent in order.
  package var turns: [Turn]
  package var onFailure: OnFailure
  package var simulate: Simulation?

  package init(turns: [Turn], onFailure: OnFailure = .stop, simulate: Simulation? = nil) {
    self.turns = turns
    self.onFailure = onFailure
    self.simulate = simulate
  }

  /// Every turn's checks, in turn order.
  package var turnAssertions: [Assertion] { turns.flatMap(\.assertions) }
}

/// `simulate:`: a model playing the user (README "Conversations"). It is sent the conversation
/// with the roles flipped after a fixed instruction made from its persona and goal, and writes
/// the next user message, until it says its stop marker or `max_turns` user turns were sent.
package struct Simulation: Sendable {
  package var persona: String
  package var goal: String
  /// The most user turns of the conversation, the first included (default 6).
  package var maxTurns: Int
  /// The marker the simulator says when its goal is met or lost (default `###STOP###`).
  package var stop: String
  /// Who plays the user: `simulate`'s provider/model/params over the config's `simulator:`, else the case's own.
  package var target: JudgeTarget

  package static let defaultMaxTurns = 6
  package static let maxMaxTurns = 50
  package static let defaultStop = "###STOP###"

  package init(persona: String, goal: String, maxTurns: Int, stop: String, target: JudgeTarget) {
    self.persona = persona
    self.goal = goal
    self.maxTurns = maxTurns
    self.stop = stop
    self.target = target
  }

  /// The simulator's system message (README "Conversations" quotes it).
  package var instruction: String {
    """
    You are role-playing a user who is talking to an AI assistant. Write only the user's next \
    message: no role names, no quotation marks, no explanations.
    Persona: \(persona)
    Goal: \(goal)
    Stay in character. When your goal has been met, or it clearly cannot be met, reply with \
    \(stop) and nothing else.
    """
  }

  /// The simulator's call for the conversation so far: its instruction, then every user and
  /// assistant message with the roles flipped (tool calls and tool results are the assistant's
  /// own business and are left out; system messages too).
  package func request(for c: PlannedCase, conversation: [JSON]) -> ChatRequest {
    var messages: [JSON] = [["role": "system", "content": .string(instruction)]]
    for m in conversation {
      guard let role = m["role"]?.stringValue, role == "user" || role == "assistant" else { continue }
      let text = m["content"]?.stringValue ?? ""
      if role == "assistant", text.isEmpty { continue }
      messages.append(["role": .string(role == "user" ? "assistant" : "user"), "content": .string(text)])
    }
    let (provider, model) = target.resolved(for: c)
    return ChatRequest(provider: provider, model: model, messages: messages, params: target.params)
  }

  /// The simulator's answer as the user's next message; nil when it said the stop marker.
  package func userMessage(from answer: String) -> String? {
    if answer.contains(stop) { return nil }
    return answer.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// A conversation's turns read from its steps: a user step starts each turn after the first.
package struct TurnView: Sendable, Equatable {
  /// 1-based.
  package var number: Int
  package var user: String
  /// The steps of the turn (indexes into the case's steps): its user step, model and tool steps.
  package var steps: Range<Int>
  /// The index of the turn's reply (its last model answer), nil when it has none.
  package var replyIndex: Int?

  package init(number: Int, user: String, steps: Range<Int>, replyIndex: Int?) {
    self.number = number
    self.user = user
    self.steps = steps
    self.replyIndex = replyIndex
  }

  /// The turns of a conversation whose first user message is `opening`.
  package static func turns(opening: String, kinds: [Step.Kind], texts: (Int) -> String, answered: (Int) -> Bool)
    -> [TurnView]
  {
    var out: [TurnView] = []
    var start = 0
    var user = opening
    func close(_ end: Int) {
      let reply = (start..<end).last { kinds[$0] != .user && kinds[$0] != .tool && answered($0) }
      out.append(TurnView(number: out.count + 1, user: user, steps: start..<end, replyIndex: reply))
    }
    for i in kinds.indices where kinds[i] == .user && i > 0 {
      close(i)
      start = i
      user = texts(i)
    }
    if !kinds.isEmpty { close(kinds.count) }
    return out
  }

  package static func turns(opening: String, steps: [Step]) -> [TurnView] {
    turns(
      opening: opening, kinds: steps.map(\.kind),
      texts: { if case .text(let t)? = steps[$0].answer { t } else { "" } },
      answered: { steps[$0].completion != nil })
  }

  /// The whole conversation as `on: transcript` reads it, one line per message (a multi-line text
  /// goes on over its lines): `user: …`, `assistant: …`, `assistant calls get_order({"id":"A1"})`,
  /// `tool get_order: {"status":"shipped"}`.
  package static func transcript(opening: String, steps: [ReportStep]) -> String {
    var lines = ["user: \(opening)"]
    for s in steps {
      switch s.kind {
      case .user:
        lines.append("user: \(s.text)")
      case .model, .app, .target:
        if s.kind == .app { continue }
        if !s.text.isEmpty { lines.append("assistant: \(s.text)") }
        let calls = s.toolCalls.map { "\($0.name)(\($0.arguments))" }
        if !calls.isEmpty { lines.append("assistant calls \(calls.joined(separator: ", "))") }
      case .tool:
        lines.append("tool \(s.toolCalls.first?.name ?? "?"): \(s.text)")
      }
    }
    return lines.joined(separator: "\n")
  }
}

extension [JSON] {
  /// The text of the last user message, which opens a conversation case.
  package var lastUserText: String? {
    last { $0["role"]?.stringValue == "user" }.map { $0["content"]?.stringValue ?? $0["content"]?.serialized() ?? "" }
  }
}

/// What a conversation's checks read beside its steps: its first user message and how it ended
/// (nil while its turns are still being checked).
package struct ConversationFacts: Sendable {
  package var opening: String
  package var ending: Conversation.Ending?

  package init(opening: String, ending: Conversation.Ending?) {
    self.opening = opening
    self.ending = ending
  }
}
