import PromptCheckCore

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
      case "stream", "include_reasoning", "structured_outputs": ok = bool(v, what) != nil
      case "tool_choice": ok = validateToolChoice(v, what, tools: pairs.first { $0.key.scalar?.text == "tools" }?.value)
      case "provider": ok = validateProviderRouting(v, what)
      case "models", "transforms": ok = stringList(v, what) != nil
      case "usage":
        if let m = map(v, what, allowed: ["include"]) {
          ok = m["include"].map { bool($0, "\(what).include") != nil } ?? true
        }
      default: break  // tools and unknown fields pass through
      }
      if ok { out[key] = json(v, render: render) }
    }
    return out
  }

  /// Parameters an OpenRouter provider may ignore unless `provider.require_parameters` is true.
  static let droppableOnOpenRouter = [
    "seed", "logit_bias", "top_k", "min_p", "repetition_penalty", "top_a", "structured_outputs",
  ]

  /// `none`, `auto`, `required`, or `{type: function, function: {name}}` naming one of the case's tools.
  private mutating func validateToolChoice(_ v: YAMLNode, _ what: String, tools: YAMLNode?) -> Bool {
    if v.scalar != nil {
      guard let s = strictString(v, what) else { return false }
      let choices = ["none", "auto", "required"]
      if !choices.contains(s) {
        var message = "\(what) must be none, auto, required or {type: function, function: {name}}, found '\(s)'"
        if let guess = closestMatch(to: s, in: choices) { message += "; did you mean '\(guess)'?" }
        error(message, at: v)
        return false
      }
      return true
    }
    guard let m = map(v, what, allowed: ["type", "function"]) else { return false }
    if let t = m["type"], let type = strictString(t, "\(what).type"), type != "function" {
      error("\(what).type must be function, found '\(type)'", at: t)
      return false
    }
    guard let f = m["function"], let fm = map(f, "\(what).function", allowed: ["name"]) else {
      if m["function"] == nil { error("\(what) needs function: {name: …}", at: v) }
      return false
    }
    guard let n = fm["name"], let name = strictString(n, "\(what).function.name") else {
      if fm["name"] == nil { error("\(what).function needs a name", at: f) }
      return false
    }
    let names = (tools?.sequence ?? []).compactMap { tool -> String? in
      tool.mapping?.first { $0.key.scalar?.text == "function" }?.value.mapping?
        .first { $0.key.scalar?.text == "name" }?.value.scalar?.text
    }
    if !names.contains(name), !toolNamesUnknown {
      var message = "\(what) names the function '\(name)', which is not one of the case's tools"
      message += names.isEmpty ? " (it has none)" : " (\(names.joined(separator: ", ")))"
      if let guess = closestMatch(to: name, in: names) { message += "; did you mean '\(guess)'?" }
      error(message, at: n)
      return false
    }
    return true
  }

  /// OpenRouter's provider routing object.
  private mutating func validateProviderRouting(_ v: YAMLNode, _ what: String) -> Bool {
    let keys = [
      "order", "only", "ignore", "allow_fallbacks", "require_parameters", "data_collection", "sort", "quantizations",
      "max_price",
    ]
    guard let m = map(v, what, allowed: keys) else { return false }
    var ok = true
    for k in ["order", "only", "ignore"] { if let x = m[k], stringList(x, "\(what).\(k)") == nil { ok = false } }
    for k in ["allow_fallbacks", "require_parameters"] {
      if let x = m[k], bool(x, "\(what).\(k)") == nil { ok = false }
    }
    func oneOf(_ k: String, _ choices: [String]) {
      guard let x = m[k], let s = strictString(x, "\(what).\(k)") else { return }
      if !choices.contains(s) {
        var message =
          "\(what).\(k) must be \(choices.listedWithOr), found '\(s)'"
        if let guess = closestMatch(to: s, in: choices) { message += "; did you mean '\(guess)'?" }
        error(message, at: x)
        ok = false
      }
    }
    oneOf("data_collection", ["allow", "deny"])
    oneOf("sort", ["price", "throughput", "latency"])
    if let q = m["quantizations"], let items = stringList(q, "\(what).quantizations") {
      let known = ["int4", "int8", "fp4", "fp6", "fp8", "fp16", "bf16", "fp32", "unknown"]
      for (i, item) in items.enumerated() where !known.contains(item) {
        let at = q.sequence?[i] ?? q
        var message = "\(what).quantizations: '\(item)' is not one of \(known.joined(separator: ", "))"
        if let guess = closestMatch(to: item, in: known) { message += "; did you mean '\(guess)'?" }
        error(message, at: at)
        ok = false
      }
    } else if m["quantizations"] != nil {
      ok = false
    }
    if let p = m["max_price"] {
      if let pm = map(p, "\(what).max_price", allowed: ["prompt", "completion", "request", "image"]) {
        for (k, x) in pm where number(x, "\(what).max_price.\(k)", in: 0...Double.greatestFiniteMagnitude) == nil {
          ok = false
        }
      } else {
        ok = false
      }
    }
    return ok
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
      let efforts = ["xhigh", "high", "medium", "low", "minimal", "none"]
      if !efforts.contains(effort) {
        var message = "\(what).effort must be xhigh, high, medium, low, minimal or none, found '\(effort)'"
        if let guess = closestMatch(to: effort, in: efforts) { message += "; did you mean '\(guess)'?" }
        error(message, at: e)
        ok = false
      }
    }
    if let t = m["max_tokens"], int(t, "\(what).max_tokens", min: 1) == nil { ok = false }
    if let x = m["exclude"], bool(x, "\(what).exclude") == nil { ok = false }
    if let x = m["enabled"], bool(x, "\(what).enabled") == nil { ok = false }
    return ok
  }
}
