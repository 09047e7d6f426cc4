import Foundation
import PromptCheckCore

/// `mocks:` and `loop:` (README "Agents: tool loops").
extension Loader {
  /// The test's loop, rendered with one variant's vars: its mocks merged by tool name (the
  /// suite's, then its defaults', then its own), its `loop:` limits. Nil when it has neither.
  mutating func toolLoop(
    _ keys: TestKeys, ctx: SuiteContext, params: JSONObject, paramPairs: [YAMLNode.Pair], render: NodeReader.Render
  ) -> ToolLoop? {
    let sources = [ctx.lists["mocks"], keys.defaults["mocks"], keys.own["mocks"]].compactMap { $0 }
    let loopNode = keys.pick("loop")
    let mcpNode = keys.pick("mcp") ?? ctx.lists["mcp"]
    guard !sources.isEmpty || loopNode != nil || mcpNode != nil else { return nil }
    var loop = ToolLoop(mocks: [])
    if let mcpNode { loop.mcp = mcpUses(mcpNode) }
    for source in sources {
      guard let pairs = source.mapping else {
        r.error("mocks must be a map of tool name to result, found \(source.kindDescription)", at: source)
        continue
      }
      for p in pairs {
        let name = p.key.scalar?.text ?? ""
        guard let mock = mock(p.value, "mocks.\(name)", render: render) else { continue }
        if let i = loop.mocks.firstIndex(where: { $0.name == name }) {
          loop.mocks[i].mock = mock
        } else {
          loop.mocks.append((name, mock))
        }
      }
    }
    if let loopNode, let m = r.map(loopNode, "loop", allowed: ["max_steps", "first_step"]) {
      if let n = m["max_steps"] {
        loop.maxSteps = r.int(n, "loop.max_steps", min: 1, max: ToolLoop.maxMaxSteps) ?? loop.maxSteps
      }
      if let f = m["first_step"] {
        if let pairs = f.mapping {
          // Checked beside the test's tools (a forced tool_choice names one of them), kept apart.
          let keys = Set(pairs.map { $0.key.scalar?.text ?? "" })
          let tools = keys.contains("tools") ? [] : paramPairs.filter { $0.key.scalar?.text == "tools" }
          var first = r.params(tools + pairs, render: render)
          for key in first.members.map(\.key) where !keys.contains(key) { first[key] = nil }
          loop.firstStep = first
        } else {
          r.error("loop.first_step must be a map of params, found \(f.kindDescription)", at: f)
        }
      }
    }
    // An MCP server's tools are known only when it answers: then only the mocks are checked.
    if loop.mcp.isEmpty { checkOffered(loop, params: params, at: sources.last ?? loopNode ?? keys.node) }
    return loop
  }

  /// `mcp: [NAME]` or `mcp: {NAME: {tools: [allowed…]}}`, each a server of `mcp_servers`.
  mutating func mcpUses(_ node: YAMLNode) -> [MCPUse] {
    var uses: [MCPUse] = []
    var entries: [(String, YAMLNode, YAMLNode?)] = []
    if let items = node.sequence {
      for item in items { if let name = r.strictString(item, "mcp") { entries.append((name, item, nil)) } }
    } else if let pairs = node.mapping {
      entries = pairs.map { ($0.key.scalar?.text ?? "", $0.key, $0.value) }
    } else {
      r.error("mcp must be a list of server names or a map of them, found \(node.kindDescription)", at: node)
    }
    for (name, at, options) in entries {
      guard config.mcpServer(named: name) != nil else {
        var message = "unknown MCP server '\(name)'"
        if let guess = closestMatch(to: name, in: config.mcpServers.map(\.name)) {
          message += "; did you mean '\(guess)'?"
        } else {
          message += "; define it under mcp_servers in promptcheck.yaml"
        }
        r.error(message, at: at)
        continue
      }
      var allow: [String]?
      if let options, case .null? = options.resolved {
      } else if let options, let m = r.map(options, "mcp.\(name)", allowed: ["tools"]) {
        allow = m["tools"].flatMap { r.stringList($0, "mcp.\(name).tools") }
      }
      uses.append(MCPUse(server: name, tools: allow))
    }
    return uses
  }

  /// Every mock names a tool the model is offered (`params.tools`), and some tool is offered.
  mutating func checkOffered(_ loop: ToolLoop, params: JSONObject, at node: YAMLNode) {
    let offered = (params["tools"]?.arrayValue ?? []).compactMap { $0["function"]?["name"]?.stringValue }
    guard !offered.isEmpty else {
      r.error(
        "a looped test offers the model its tools in params.tools (under defaults.params for all tests)", at: node)
      return
    }
    for (name, _) in loop.mocks where !offered.contains(name) {
      var message = "mocks.\(name) answers a tool the model is not offered"
      if let guess = closestMatch(to: name, in: offered) {
        message += "; did you mean '\(guess)'?"
      } else {
        message += " (params.tools offers \(offered.joined(separator: ", ")))"
      }
      r.error(message, at: node)
    }
  }

  /// One mock: a result (string, or any YAML value as its JSON text), a list of cases
  /// `[{when: [checks], result}, …]`, or `{exec: COMMAND, timeout_ms}`.
  mutating func mock(_ node: YAMLNode, _ what: String, render: NodeReader.Render) -> ToolMock? {
    if node.scalar != nil {
      if case .null? = node.resolved {
        r.error("\(what) needs a result (a string, a value, cases or {exec: COMMAND})", at: node)
        return nil
      }
      return .result(render(node.scalar?.text ?? "", node.location))
    }
    if let pairs = node.mapping, pairs.contains(where: { $0.key.scalar?.text == "exec" }) {
      guard let m = r.map(node, what, allowed: ["exec", "timeout_ms"]), let command = m["exec"] else { return nil }
      guard var exec = r.execCommand(command, "\(what).exec", render) else { return nil }
      if let t = m["timeout_ms"] {
        exec.timeoutMS = r.int(t, "\(what).timeout_ms", min: 1, max: 3_600_000) ?? exec.timeoutMS
      }
      return .exec(exec)
    }
    if let items = node.sequence, !items.isEmpty,
      items.allSatisfy({ $0.mapping?.contains { $0.key.scalar?.text == "result" } ?? false })
    {
      var cases: [ToolMock.Case] = []
      for (k, item) in items.enumerated() {
        let w = "\(what)[\(k)]"
        guard let m = r.map(item, w, allowed: ["when", "result"]), let result = m["result"] else { continue }
        var checks: [JSONPathCheck] = []
        if let whenNode = m["when"], let list = r.list(whenNode, "\(w).when") {
          for (j, c) in list.enumerated() {
            if let check = r.jsonPathCheck(c, "\(w).when[\(j)]", render) { checks.append(check) }
          }
        }
        cases.append(ToolMock.Case(when: checks, result: resultText(result, render: render)))
      }
      return .cases(cases)
    }
    return .result(resultText(node, render: render))
  }

  /// A result as the tool message carries it: a scalar's text, anything else its JSON text.
  mutating func resultText(_ node: YAMLNode, render: NodeReader.Render) -> String {
    if node.scalar != nil, case .null? = node.resolved { return "null" }
    if let (text, _) = node.scalar { return render(text, node.location) }
    return r.json(node, render: render).serialized()
  }
}
