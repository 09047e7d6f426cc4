import PromptCheckCore

/// `tool-sequence`, `tool-used` and `step-count` (README "Agents: tool loops"); `turn-count` and
/// `ended-by` (README "Conversations").
extension NodeReader {
  mutating func trajectoryCheck(_ kind: Assertion.Kind, _ value: YAMLNode, _ what: String, _ render: Render)
    -> Assertion.Check?
  {
    switch kind {
    case .toolSequence:
      // `[a, b]` or `{steps: [a, b], mode: exact | in-order | any-order | subset}`.
      var stepsNode = value
      var mode = Assertion.SequenceMode.exact
      if value.mapping != nil {
        guard let m = map(value, what, allowed: ["steps", "mode"]) else { return nil }
        guard let s = m["steps"] else {
          error("\(what) needs steps, the tool names in order", at: value)
          return nil
        }
        stepsNode = s
        if let modeNode = m["mode"], let text = strictString(modeNode, "\(what).mode") {
          guard let parsed = Assertion.SequenceMode(rawValue: text) else {
            let modes = Assertion.SequenceMode.allCases.map(\.rawValue)
            var message = "\(what).mode must be \(modes.listedWithOr), found '\(text)'"
            if let guess = closestMatch(to: text, in: modes) { message += "; did you mean '\(guess)'?" }
            error(message, at: modeNode)
            return nil
          }
          mode = parsed
        }
      }
      guard let names = stringList(stepsNode, "\(what).steps") else { return nil }
      return .toolSequence(names.map { render($0, stepsNode.location) }, mode: mode)
    case .toolUsed:
      // `NAME` or `{name, min, max}`.
      if value.scalar != nil { return strictString(value, what).map { .toolUsed(name: $0, min: 1, max: nil) } }
      guard let m = map(value, what, allowed: ["name", "min", "max"]) else { return nil }
      guard let nameNode = m["name"], let name = strictString(nameNode, "\(what).name") else {
        if m["name"] == nil { error("\(what) needs the tool's name", at: value) }
        return nil
      }
      let lo = m["min"].flatMap { int($0, "\(what).min", min: 0) } ?? 1
      let hi = m["max"].flatMap { int($0, "\(what).max", min: 0) }
      if let hi, hi < lo {
        error("\(what): max (\(hi)) is less than min (\(lo))", at: value)
        return nil
      }
      return .toolUsed(name: name, min: lo, max: hi)
    case .endedBy:
      // ended-by: `stop`, `max_turns`, `script` or `turn_failure` (README "Conversations").
      guard let text = strictString(value, what) else { return nil }
      guard let ending = Conversation.Ending(rawValue: text) else {
        let endings = Conversation.Ending.allCases.map(\.rawValue)
        var message = "\(what) must be \(endings.listedWithOr), found '\(text)'"
        if let guess = closestMatch(to: text, in: endings) { message += "; did you mean '\(guess)'?" }
        error(message, at: value)
        return nil
      }
      return .endedBy(ending)
    default:
      // step-count and turn-count: `N` or `{min, max}`.
      let make: (Int?, Int?) -> Assertion.Check = {
        kind == .turnCount ? .turnCount(min: $0, max: $1) : .stepCount(min: $0, max: $1)
      }
      if value.scalar != nil { return int(value, what, min: 1).map { make($0, $0) } }
      guard let m = map(value, what, allowed: ["min", "max"]) else { return nil }
      if m.isEmpty { error("\(what) needs min or max", at: value) }
      let lo = m["min"].flatMap { int($0, "\(what).min", min: 0) }
      let hi = m["max"].flatMap { int($0, "\(what).max", min: 0) }
      if let lo, let hi, hi < lo {
        error("\(what): max (\(hi)) is less than min (\(lo))", at: value)
        return nil
      }
      return make(lo, hi)
    }
  }
}
