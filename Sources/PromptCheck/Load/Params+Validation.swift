/// Validation of request parameters (README "Suite files"). Every field is sent as given;
/// the fields in the table are checked first, any other is passed through.
extension NodeReader {
  static let paramsNotAllowed = ["model", "messages"]

  /// Checks `params` (a map node) and returns it as JSON, strings rendered, in the order written.
  mutating func params(_ pairs: [YAMLNode.Pair], render: Render) -> JSONObject {
    var out = JSONObject()
    for pair in pairs {
      let key = pair.key.scalar?.text ?? ""
      let v = pair.value
      let what = "params.\(key)"
      if Self.paramsNotAllowed.contains(key) {
        error(
          "'\(key)' cannot be set in params; it comes from the suite (use the test's '\(key == "model" ? "model" : "messages")' key)",
          at: pair.key)
        continue
      }
      var ok = true
      switch key {
      case "temperature": ok = number(v, what, in: 0...2) != nil
      case "top_p", "min_p": ok = number(v, what, in: 0...1) != nil
      case "top_k": ok = int(v, what, min: 0) != nil
      case "seed": ok = int(v, what) != nil
      case "max_tokens", "max_completion_tokens": ok = int(v, what, min: 1) != nil
      case "frequency_penalty", "presence_penalty": ok = number(v, what, in: -2...2) != nil
      case "repetition_penalty":
        if let x = number(v, what, in: 0...2), x == 0 {
          error("\(what) must be greater than 0 and at most 2, found 0", at: v)
          ok = false
        }
      case "stop": ok = validateStop(v, what)
      case "logit_bias": ok = validateLogitBias(v, what)
      case "response_format": ok = validateResponseFormat(v, what)
      case "reasoning": ok = validateReasoning(v, what)
      case "stream": ok = bool(v, what) != nil
      default: break  // tools, tool_choice and unknown fields pass through
      }
      if ok { out[key] = json(v, render: render) }
    }
    return out
  }

  private mutating func validateStop(_ v: YAMLNode, _ what: String) -> Bool {
    if v.scalar != nil { return strictString(v, what) != nil }
    guard let items = v.sequence else {
      error("\(what) must be a string or a list of 1 to 4 strings, found \(v.kindDescription)", at: v)
      return false
    }
    guard (1...4).contains(items.count) else {
      error("\(what) must hold 1 to 4 strings, found \(items.count)", at: v)
      return false
    }
    var ok = true
    for item in items where strictString(item, "each item of \(what)") == nil { ok = false }
    return ok
  }

  private mutating func validateLogitBias(_ v: YAMLNode, _ what: String) -> Bool {
    guard let pairs = v.mapping else {
      error("\(what) must be a map of token id to bias, found \(v.kindDescription)", at: v)
      return false
    }
    var ok = true
    for p in pairs {
      let key = p.key.scalar?.text ?? ""
      if key.isEmpty || !key.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
        error("\(what): '\(key)' is not a token id (digits only)", at: p.key)
        ok = false
      }
      if number(p.value, "\(what).\(key)", in: -100...100) == nil { ok = false }
    }
    return ok
  }

  private mutating func validateResponseFormat(_ v: YAMLNode, _ what: String) -> Bool {
    guard let pairs = v.mapping else {
      error("\(what) must be a map with a type, found \(v.kindDescription)", at: v)
      return false
    }
    guard let t = pairs.first(where: { $0.key.scalar?.text == "type" })?.value else {
      error("\(what) needs a type (text, json_object or json_schema)", at: v)
      return false
    }
    guard let type = strictString(t, "\(what).type") else { return false }
    let types = ["text", "json_object", "json_schema"]
    guard types.contains(type) else {
      var message = "\(what).type must be text, json_object or json_schema, found '\(type)'"
      if let guess = closestMatch(to: type, in: types) { message += "; did you mean '\(guess)'?" }
      error(message, at: t)
      return false
    }
    return true
  }

  private mutating func validateReasoning(_ v: YAMLNode, _ what: String) -> Bool {
    guard let m = map(v, what, allowed: ["effort", "max_tokens", "exclude", "enabled"]) else { return false }
    var ok = true
    if let e = m["effort"], let effort = strictString(e, "\(what).effort") {
      if !["low", "medium", "high"].contains(effort) {
        error("\(what).effort must be low, medium or high, found '\(effort)'", at: e)
        ok = false
      }
    }
    if let t = m["max_tokens"], int(t, "\(what).max_tokens", min: 1) == nil { ok = false }
    if let x = m["exclude"], bool(x, "\(what).exclude") == nil { ok = false }
    if let x = m["enabled"], bool(x, "\(what).enabled") == nil { ok = false }
    return ok
  }
}
