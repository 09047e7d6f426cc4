import PromptCheckCore

/// The judged kinds (`llm-rubric`, `similar`, `exec`), `transform` and the config's
/// `grader:`/`embeddings:` sections (README "Judged assertions").
extension NodeReader {
  static let judgeTargetKeys = ["provider", "model", "params"]

  /// `{provider?, model?, params?}` of an assertion or the config; `provider` names a configured provider.
  mutating func judgeTarget(
    _ m: [String: YAMLNode], _ what: String, allowsParams: Bool = true, caller: String = "grader"
  ) -> JudgeTarget {
    var target = JudgeTarget()
    if let p = m["provider"], let name = strictString(p, "\(what).provider") {
      if let provider = judgeProviders.first(where: { $0.name == name }) {
        target.provider = provider
      } else {
        var message = "\(what).provider: unknown provider '\(name)'"
        if let guess = closestMatch(to: name, in: judgeProviders.map(\.name)) {
          message += "; did you mean '\(guess)'?"
        }
        error(message, at: p)
      }
    }
    if let v = m["model"] { target.model = strictString(v, "\(what).model") }
    if let v = m["params"] {
      if allowsParams, let pairs = v.mapping {
        target.params = JSONObject(pairs.map { ($0.key.scalar?.text ?? "", json($0.value)) })
        let reserved =
          caller == "grader" ? ["model", "messages", "stream", "response_format"] : ["model", "messages", "stream"]
        for key in reserved where target.params[key] != nil {
          error("\(what).params cannot set '\(key)': the \(caller) call sets it", at: v)
        }
      } else if allowsParams {
        error("\(what).params must be a map, found \(v.kindDescription)", at: v)
      }
    }
    return target
  }

  /// `llm-rubric: "text"` or `{rubric, threshold?, provider?, model?, params?}`.
  mutating func rubric(_ node: YAMLNode, _ what: String, _ render: Render) -> Rubric? {
    if node.mapping == nil {
      return string(node, what).map { Rubric(text: render($0, node.location), threshold: nil, target: graderDefaults) }
    }
    guard let m = map(node, what, allowed: ["rubric", "threshold", "min_kappa", "min_labels"] + Self.judgeTargetKeys)
    else { return nil }
    guard let r = m["rubric"] else {
      error("\(what) needs the rubric: the property the grader checks", at: node)
      return nil
    }
    guard let text = string(r, "\(what).rubric") else { return nil }
    if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      error("\(what).rubric is empty", at: r)
      return nil
    }
    let threshold = m["threshold"].flatMap { number($0, "\(what).threshold", in: 0...1) }
    return Rubric(
      text: render(text, r.location), threshold: threshold,
      target: graderDefaults.overlaid(by: judgeTarget(m, what)), calibration: calibrationGate(m, what))
  }

  /// `min_kappa` (−1…1) and `min_labels` (1 or more) of a judged assertion or of the config's
  /// `calibration:`; nil without `min_kappa`.
  mutating func calibrationGate(_ m: [String: YAMLNode], _ what: String) -> CalibrationGate? {
    let labels = m["min_labels"].flatMap { int($0, "\(what).min_labels", min: 1) }
    guard let k = m["min_kappa"] else {
      if let node = m["min_labels"], labels != nil {
        error("\(what).min_labels needs min_kappa: the agreement the labels must reach", at: node)
      }
      return nil
    }
    guard let kappa = number(k, "\(what).min_kappa", in: -1...1) else { return nil }
    return CalibrationGate(minKappa: kappa, minLabels: labels ?? CalibrationGate.defaultMinLabels)
  }

  /// `similar: "text"`, a list, or `{value, threshold?, provider?, model?}`.
  mutating func similarity(_ node: YAMLNode, _ what: String, _ render: Render) -> Similarity? {
    var valueNode = node
    var threshold = 0.8
    var target = embeddingDefaults
    var calibration: CalibrationGate?
    if node.mapping != nil {
      guard let m = map(node, what, allowed: ["value", "threshold", "provider", "model", "min_kappa", "min_labels"])
      else { return nil }
      calibration = calibrationGate(m, what)
      guard let v = m["value"] else {
        error("\(what) needs a value: the text (or list of texts) to be similar to", at: node)
        return nil
      }
      valueNode = v
      if let t = m["threshold"] { threshold = number(t, "\(what).threshold", in: -1...1) ?? threshold }
      target = target.overlaid(by: judgeTarget(m, what, allowsParams: false))
    }
    let values: [String]
    if valueNode.sequence != nil {
      guard let list = stringList(valueNode, "\(what).value") else { return nil }
      if list.isEmpty {
        error("\(what) needs at least one text to compare with", at: valueNode)
        return nil
      }
      values = list.map { render($0, valueNode.location) }
    } else {
      guard let text = string(valueNode, what) else { return nil }
      values = [render(text, valueNode.location)]
    }
    return Similarity(values: values, threshold: threshold, target: target, calibration: calibration)
  }

  /// `exec: "shell command"`, `exec: [argv…]` or `{command, timeout_ms?}`.
  mutating func execCommand(_ node: YAMLNode, _ what: String, _ render: Render) -> ExecCommand? {
    var commandNode = node
    var timeout = ExecCommand.defaultTimeoutMS
    if node.mapping != nil {
      guard let m = map(node, what, allowed: ["command", "timeout_ms"]) else { return nil }
      guard let c = m["command"] else {
        error("\(what) needs a command (a shell string or an argument list)", at: node)
        return nil
      }
      commandNode = c
      if let t = m["timeout_ms"] { timeout = int(t, "\(what).timeout_ms", min: 1, max: 3_600_000) ?? timeout }
    }
    if commandNode.sequence != nil {
      guard let argv = stringList(commandNode, "\(what).command") else { return nil }
      guard !argv.isEmpty else {
        error("\(what).command is an empty list", at: commandNode)
        return nil
      }
      let rendered = argv.map { render($0, commandNode.location) }
      return ExecCommand(argv: rendered, display: rendered.joined(separator: " "), timeoutMS: timeout)
    }
    guard let text = string(commandNode, "\(what).command") else { return nil }
    let shell = render(text, commandNode.location)
    if shell.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      error("\(what).command is empty", at: commandNode)
      return nil
    }
    return ExecCommand(argv: ["/bin/sh", "-c", shell], display: shell, timeoutMS: timeout)
  }

  /// `transform: strip-code-fence`, `{regex-capture: PATTERN}`, or a list of them (applied in order).
  mutating func transforms(_ node: YAMLNode, _ what: String, _ render: Render) -> [Transform]? {
    let items = node.sequence ?? [node]
    var out: [Transform] = []
    let names = ["strip-code-fence", "extract-json", "trim", "regex-capture", "json-path"]
    let all = "strip-code-fence, extract-json, trim, {regex-capture: PATTERN}, {json-path: PATH}"
    for (k, item) in items.enumerated() {
      let at = node.sequence == nil ? what : "\(what)[\(k)]"
      if let pairs = item.mapping {
        let key = pairs.count == 1 ? pairs[0].key.scalar?.text : nil
        switch key {
        case "regex-capture":
          if let r = regex(pairs[0].value, "\(at).regex-capture", render) { out.append(.regexCapture(r)) }
        case "json-path":
          guard let text = strictString(pairs[0].value, "\(at).json-path") else { continue }
          do {
            out.append(.jsonPath(try JSONPath(text), text))
          } catch {
            self.error("\(at).json-path is not a JSON path: \(error)", at: pairs[0].value)
          }
        default:
          error("\(at) must be one of \(all)", at: item)
        }
        continue
      }
      guard let name = strictString(item, at) else { continue }
      switch name {
      case "strip-code-fence": out.append(.stripCodeFence)
      case "extract-json": out.append(.extractJSON)
      case "trim": out.append(.trim)
      default:
        var message = "unknown transform '\(name)'"
        if let guess = closestMatch(to: name, in: names) { message += "; did you mean '\(guess)'?" }
        message += " (transforms: \(all))"
        error(message, at: item)
      }
    }
    return out
  }
}
