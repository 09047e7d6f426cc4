import Foundation
import PromptCheckCore

/// `turns:`, `on_turn_failure:` and `simulate:` (README "Conversations").
extension Loader {
  static let turnKeys = ["user", "assert", "golden"]
  static let simulateKeys = ["persona", "goal", "max_turns", "stop", "first_message"] + NodeReader.judgeTargetKeys

  /// The variant's conversation and its chat with turn 1's message in it: nil (and the chat as
  /// given) for a test with neither `turns`, a dataset row's `turns`, nor `simulate`.
  mutating func conversation(
    _ spec: TestSpec, chat: Chat, rowVars: [(key: String, value: String)], render: NodeReader.Render
  ) -> (Conversation?, Chat) {
    let keys = spec.keys
    let turnsNode = keys.own["turns"]
    let simulateNode = keys.pick("simulate")
    let rowTurns = rowVars.last { $0.key == "turns" }?.value
    guard turnsNode != nil || simulateNode != nil || rowTurns != nil else {
      if let f = keys.pick("on_turn_failure") {
        r.error("on_turn_failure applies to a conversation; add 'turns' or 'simulate'", at: f)
      }
      return (nil, chat)
    }
    var scripted: [Conversation.Turn] = []
    if let turnsNode {
      if rowTurns != nil {
        r.error("the test gives 'turns' and its dataset rows do too; give them in one place", at: turnsNode)
      }
      scripted = turns(turnsNode, render: render)
    } else if let rowTurns {
      scripted = datasetTurns(
        rowTurns, at: spec.data.name, location: keys.own["dataset"]?.location ?? keys.node.location)
    }
    var onFailure = Conversation.OnFailure.stop
    if let f = keys.pick("on_turn_failure"), let text = r.strictString(f, "on_turn_failure") {
      if let parsed = Conversation.OnFailure(rawValue: text) {
        onFailure = parsed
      } else {
        r.error("on_turn_failure must be stop or continue, found '\(text)'", at: f)
      }
    }
    var simulation: Simulation?
    var firstMessage: (String, SourceLocation)?
    if let simulateNode { (simulation, firstMessage) = simulate(simulateNode, render: render) }

    // Turn 1's message is the last of the case's own request.
    var chat = chat
    let messages = chat.isPrompt ? [] : messagesOf(chat)
    let opensWithUser = chat.isPrompt || messages.last?["role"]?.stringValue == "user"
    if opensWithUser {
      let text = chat.isPrompt ? promptText(chat) : messages.lastUserText ?? ""
      scripted.insert(Conversation.Turn(user: text, assertions: [], location: keys.node.location), at: 0)
      if let firstMessage {
        r.error(
          "simulate.first_message is given, but the test's own messages already end with the user's first message",
          at: firstMessage.1)
      }
    } else {
      if scripted.isEmpty, let firstMessage {
        scripted.append(Conversation.Turn(user: firstMessage.0, assertions: [], location: firstMessage.1))
      }
      guard let first = scripted.first else {
        r.error(
          "a simulated conversation needs its first user message: give the test a 'prompt', or 'simulate.first_message'",
          at: simulateNode ?? keys.node)
        return (nil, chat)
      }
      chat = .messages(messages + [["role": "user", "content": .string(first.user)]])
    }
    if let simulation, scripted.count > simulation.maxTurns {
      r.error(
        "the conversation has \(scripted.count) scripted turns, more than simulate.max_turns (\(simulation.maxTurns))",
        at: simulateNode ?? keys.node)
    }
    for k in scripted.indices {
      for i in scripted[k].assertions.indices { scripted[k].assertions[i].turn = k + 1 }
    }
    if spec.gating.repeatCount != nil, let t = turnsNode, scripted.contains(where: { $0.golden != nil }) {
      r.error("a turn's golden is not supported in a repeated test; give the test a golden instead", at: t)
    }
    return (Conversation(turns: scripted, onFailure: onFailure, simulate: simulation), chat)
  }

  private func messagesOf(_ chat: Chat) -> [JSON] {
    if case .messages(let m) = chat { return m }
    return []
  }

  private func promptText(_ chat: Chat) -> String {
    if case .prompt(let p) = chat { return p }
    return ""
  }

  /// `turns: [{user: TEXT, assert: [...]}, …]`; each turn's checks are labelled by the turn they
  /// check (its position in `turns`, plus one when the test's own prompt is turn 1).
  mutating func turns(_ node: YAMLNode, render: NodeReader.Render) -> [Conversation.Turn] {
    guard let items = r.list(node, "turns") else { return [] }
    if items.isEmpty { r.error("turns must not be empty", at: node) }
    var out: [Conversation.Turn] = []
    for (k, item) in items.enumerated() {
      let what = "turns[\(k)]"
      guard let m = r.map(item, what, allowed: Self.turnKeys) else { continue }
      guard let userNode = m["user"] else {
        r.error("\(what) needs 'user', the user's message", at: item)
        continue
      }
      guard let text = r.string(userNode, "\(what).user") else { continue }
      var assertions: [Assertion] = []
      if let a = m["assert"], let list = r.list(a, "\(what).assert") {
        for (i, n) in list.enumerated() {
          if let parsed = r.assertion(n, index: i, within: "\(what).", render: render) { assertions.append(parsed) }
        }
      }
      let golden = m["golden"].flatMap { goldenSpec($0) }
      out.append(
        Conversation.Turn(
          user: render(text, userNode.location), assertions: assertions, golden: golden, location: item.location))
    }
    return out
  }

  /// A JSONL row's `turns`: a list of strings or `{user: TEXT}` objects.
  mutating func datasetTurns(_ text: String, at file: String, location: SourceLocation) -> [Conversation.Turn] {
    guard let list = (try? JSON.parse(text))?.arrayValue, !list.isEmpty else {
      r.error("\(file): a row's turns must be a non-empty list of strings or {\"user\": …} objects", at: location)
      return []
    }
    var out: [Conversation.Turn] = []
    for item in list {
      guard let user = item.stringValue ?? item["user"]?.stringValue else {
        r.error(
          "\(file): each of a row's turns must be a string or {\"user\": …}, found \(Excerpt.json(item, length: 40))",
          at: location)
        return []
      }
      out.append(Conversation.Turn(user: user, assertions: [], location: location))
    }
    return out
  }

  /// `simulate: {persona, goal, max_turns, stop, first_message, provider, model, params}`.
  mutating func simulate(_ node: YAMLNode, render: NodeReader.Render) -> (Simulation?, (String, SourceLocation)?) {
    guard let m = r.map(node, "simulate", allowed: Self.simulateKeys) else { return (nil, nil) }
    func text(_ key: String) -> String? {
      guard let n = m[key] else { return nil }
      return r.string(n, "simulate.\(key)").map { render($0, n.location) }
    }
    let persona = text("persona")
    let goal = text("goal")
    for key in ["persona", "goal"] where m[key] == nil {
      r.error("simulate needs \(key)", at: node)
    }
    let maxTurns =
      m["max_turns"].flatMap { r.int($0, "simulate.max_turns", min: 1, max: Simulation.maxMaxTurns) }
      ?? Simulation.defaultMaxTurns
    var stop = Simulation.defaultStop
    if let s = m["stop"], let t = r.strictString(s, "simulate.stop") {
      if t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        r.error("simulate.stop must not be empty", at: s)
      } else {
        stop = t
      }
    }
    let first = m["first_message"].flatMap { n in text("first_message").map { ($0, n.location) } }
    let target = r.simulatorDefaults.overlaid(by: r.judgeTarget(m, "simulate", caller: "simulator"))
    guard let persona, let goal else { return (nil, first) }
    return (Simulation(persona: persona, goal: goal, maxTurns: maxTurns, stop: stop, target: target), first)
  }
}
