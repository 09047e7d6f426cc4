import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute

/// What a looped case did (README "Agents: tool loops").
struct LoopRun {
  var steps: [Step]
  /// Why the case errors: a tool call nothing answers, a step the cassette lacks, a failed call.
  var error: String?
  /// `loop.max_steps` reached with the model still calling tools: the case fails.
  var finding: Finding?
}

extension Runner {
  /// Runs a looped case from its first answer: every tool call answered from its mock, the
  /// assistant message and one `role: tool` message per call appended, the conversation sent
  /// again, until an answer calls no tool or `loop.max_steps` model calls were made.
  func runLoop(
    _ c: PlannedCase, loop: ToolLoop, first: Completion, mcpTools: [String: String] = [:], fetched: inout FetchResult
  ) async -> LoopRun {
    var steps: [Step] = [.model(first)]
    var messages = c.variant.messages
    var run = await runLoop(
      c, loop: loop, answer: first, messages: &messages, steps: &steps, mcpTools: mcpTools, fetched: &fetched)
    run.steps = steps
    return run
  }

  /// The loop from `answer`, the last of `steps` (a conversation's turn runs one from its first
  /// model step, `turn` naming it): the assistant and tool messages appended to `messages`, the
  /// steps to `steps`. `run.steps` is left empty.
  func runLoop(
    _ c: PlannedCase, loop: ToolLoop, answer first: Completion, messages: inout [JSON], steps: inout [Step],
    turn: Int? = nil, mcpTools: [String: String], fetched: inout FetchResult
  ) async -> LoopRun {
    var run = LoopRun(steps: [])
    let start = steps.count - 1
    var answer = first
    let during = turn.map { " in turn \($0)" } ?? ""
    while !answer.toolCalls.isEmpty {
      if Array(steps[start...]).modelCallCount >= loop.maxSteps {
        run.finding = Finding(
          label: "loop", kind: "max-steps", passed: false,
          message:
            "the model still called tools after \(loop.maxSteps) model calls (loop.max_steps)\(during); it called \(answer.toolCalls.map(\.name).joined(separator: ", ")) last",
          location: c.location)
        return run
      }
      messages.append(Self.assistantMessage(answer))
      for (k, call) in answer.toolCalls.enumerated() {
        let number = steps.count + 1
        let id = call.id ?? "call_\(number)_\(k)"
        let clock = ContinuousClock()
        let start = clock.now
        switch await answerTool(call, number: number, loop: loop, mcpTools: mcpTools, c: c, fetched: fetched) {
        case .failure(let problem):
          run.error = redactor(problem.message)
          return run
        case .success(var result):
          result.callID = id
          // Replayed, a tool step takes the duration it was recorded with, so reports replay byte for byte.
          let recorded = fetched.calling ? nil : fetched.recorded(step: number).flatMap { $0.kind == .tool ? $0 : nil }
          // The model is sent the result as the tool gave it; reports, the terminal and the
          // cassette see it redacted (a tool that echoes a key leaves it nowhere).
          var shown = result
          shown.content = redactor(result.content)
          shown.arguments = redactor(result.arguments)
          let step = Step(
            kind: .tool, answer: .toolResult(shown),
            durationMS: recorded?.durationMS ?? (clock.now - start).milliseconds)
          steps.append(step)
          fetched.keep(step)
          messages.append(["role": "tool", "tool_call_id": .string(id), "content": .string(result.content)])
        }
      }
      let number = steps.count + 1
      switch await source.fetchStep(
        c, number: number, request: c.request(messages: messages), turn: turn, fetched: &fetched)
      {
      case .failure(let e):
        run.error = e.message
        return run
      case .success(let next):
        answer = presented(next, c)
        steps.append(.model(answer))
      }
    }
    return run
  }

  /// The assistant message as the model sent it, to send back: its role, content and tool calls
  /// (a null content as "", which some servers require beside tool calls).
  /// A conversation turn's reply, to send back with the next user message: the assistant's text
  /// as the model sent it.
  static func replyMessage(_ answer: Completion) -> JSON {
    let sent = answer.response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
    return ["role": "assistant", "content": .string(sent ?? answer.content)]
  }

  static func assistantMessage(_ answer: Completion) -> JSON {
    var m = JSONObject()
    m["role"] = "assistant"
    let sent = answer.response["choices"]?.arrayValue?.first?["message"]
    m["content"] = sent?["content"].flatMap { $0 == .null ? nil : $0 } ?? .string(answer.content)
    if let calls = sent?["tool_calls"], calls.arrayValue?.isEmpty == false {
      m["tool_calls"] = calls
    } else {
      m["tool_calls"] = .array(
        answer.toolCalls.enumerated().map { k, t in
          [
            "id": .string(t.id ?? "call_\(k)"), "type": "function",
            "function": ["name": .string(t.name), "arguments": .string(t.arguments)],
          ]
        })
    }
    return .object(m)
  }

  /// One tool call's result from its mock; a call nothing answers is a problem, never an empty result.
  func answerTool(
    _ call: Completion.ToolCall, number: Int, loop: ToolLoop, mcpTools: [String: String], c: PlannedCase,
    fetched: FetchResult
  ) async -> Result<Step.ToolResult, ToolError> {
    let flat = call.arguments.replacingOccurrences(of: "\n", with: " ")
    let shown =
      "\(call.name)(\(flat.unicodeScalars.count <= 80 ? flat : String(String.UnicodeScalarView(flat.unicodeScalars.prefix(80))) + "…"))"
    let at = "step \(number): the model called \(shown)"
    guard let mock = loop.mock(named: call.name) else {
      if let server = mcpTools[call.name] {
        return await mcpTool(server, call: call, number: number, c: c, fetched: fetched).mapError {
          ToolError("\(at): \($0.message)")
        }
      }
      let names = loop.mocks.map(\.name) + mcpTools.keys.sorted()
      return .failure(
        ToolError(
          "\(at), but no mock or MCP server answers \(call.name)"
            + (names.isEmpty ? "" : " (tools answered: \(names.joined(separator: ", ")))")))
    }
    let arguments: JSON
    do {
      arguments = try JSON.parse(call.arguments)
    } catch {
      return .failure(ToolError("\(at), whose arguments are not JSON (\(error.description)); no mock answers it"))
    }
    func result(_ content: String, _ source: String) -> Step.ToolResult {
      Step.ToolResult(callID: call.id, name: call.name, arguments: call.arguments, content: content, source: source)
    }
    switch mock {
    case .result(let text):
      return .success(result(text, "mock"))
    case .cases(let cases):
      var unmet: [String] = []
      for (k, candidate) in cases.enumerated() {
        let match = evaluator.argumentsMatch(candidate.when, arguments)
        if match.holds { return .success(result(candidate.result, "mock")) }
        let need = match.unmet ?? "?"
        unmet.append("case \(k + 1) needs " + (need.hasPrefix("have ") ? String(need.dropFirst(5)) : need))
      }
      return .failure(
        ToolError("\(at), which no case of the \(call.name) mock matches: " + unmet.joined(separator: "; ")))
    case .exec(let command):
      return await execTool(command, call: call, arguments: arguments, number: number, c: c, fetched: fetched)
        .map { result($0, "exec") }
        .mapError { ToolError("\(at): \($0.message)") }
    }
  }

  /// An exec tool's result: recorded when the case records, from the cassette when it replays
  /// (replay runs no command).
  func execTool(
    _ command: ExecCommand, call: Completion.ToolCall, arguments: JSON, number: Int, c: PlannedCase,
    fetched: FetchResult
  ) async -> Result<String, ToolError> {
    if !fetched.calling {
      return Self.recordedResult(call, number: number, what: "exec tool", c: c, fetched: fetched).map(\.content)
    }
    var vars = JSONObject()
    for (k, v) in c.variant.vars.sorted(by: { $0.key < $1.key }) { vars[k] = .string(v) }
    let input: JSON = [
      "name": .string(call.name), "arguments": arguments, "step": .int(number), "case": .string(c.id),
      "vars": .object(vars),
    ]
    switch await Subprocess.run(command.argv, input: input.serialized(), timeoutMS: command.timeoutMS) {
    case .failure(let e):
      return .failure(ToolError(e.message))
    case .success(let f) where f.timedOut:
      return .failure("`\(command.display)` ran longer than \(command.timeoutMS) ms (timeout_ms) and was killed")
    case .success(let f):
      guard f.status == 0 else {
        let how = f.status.map { "exited with status \($0)" } ?? "was ended by signal \(f.signal ?? 0)"
        let tail = f.stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(300)
        return .failure(ToolError("`\(command.display)` \(how)" + (tail.isEmpty ? "" : ": \(tail)")))
      }
      return .success(f.stdout.hasSuffix("\n") ? String(f.stdout.dropLast()) : f.stdout)
    }
  }

  /// A tool result the cassette recorded at this step (replay runs no exec tool, starts no MCP server).
  static func recordedResult(
    _ call: Completion.ToolCall, number: Int, what: String, c: PlannedCase, fetched: FetchResult
  ) -> Result<(content: String, source: String), ToolError> {
    guard let recorded = fetched.recorded(step: number), recorded.kind == .tool,
      recorded.request["name"]?.stringValue == call.name, let content = recorded.response["content"]?.stringValue
    else {
      return .failure(
        "the cassette records no result of the \(call.name) \(what) at this step; record it with: promptcheck run --mode record --case '\(c.id)'"
      )
    }
    return .success((content, recorded.response["source"]?.stringValue ?? "mcp"))
  }

  /// An MCP tool's result: `tools/call` when the case calls, from the cassette when it replays.
  func mcpTool(_ server: String, call: Completion.ToolCall, number: Int, c: PlannedCase, fetched: FetchResult) async
    -> Result<Step.ToolResult, ToolError>
  {
    func result(_ content: String, _ source: String) -> Step.ToolResult {
      Step.ToolResult(callID: call.id, name: call.name, arguments: call.arguments, content: content, source: source)
    }
    if !fetched.calling {
      return Self.recordedResult(call, number: number, what: "MCP tool", c: c, fetched: fetched).map {
        result($0.content, $0.source)
      }
    }
    guard let mcp else { return .failure("no MCP servers in this run") }
    let arguments = (try? JSON.parse(call.arguments)) ?? [:]
    return await mcp.call(server, tool: call.name, arguments: arguments).map { result($0, "mcp:\(server)") }
  }

  /// The case with its MCP servers' tools added to `params.tools` (an allow list keeps some), and
  /// which server answers each: live from the servers, or in replay as the cassette recorded them.
  func offeringMCPTools(_ c: PlannedCase, loop: ToolLoop) async -> Result<(PlannedCase, [String: String]), ToolError> {
    let own = c.variant.params["tools"]?.arrayValue ?? []
    let ownNames = Set(own.compactMap { $0["function"]?["name"]?.stringValue })
    var added: [JSON] = []
    var owners: [String: String] = [:]
    if mode == .replay {
      added = source.recordedTools(c, besides: own)
      for t in added { owners[t["function"]?["name"]?.stringValue ?? ""] = "recorded" }
    } else {
      guard let mcp else { return .failure("no MCP servers in this run") }
      for use in loop.mcp {
        switch await mcp.tools(use.server) {
        case .failure(let e): return .failure(e)
        case .success(let tools):
          for t in tools {
            guard let name = t["function"]?["name"]?.stringValue, !ownNames.contains(name), owners[name] == nil,
              use.tools.map({ $0.contains(name) }) ?? true
            else { continue }
            added.append(t)
            owners[name] = use.server
          }
        }
      }
    }
    var offered = c
    offered.variant.params["tools"] = .array(own + added)
    return .success((offered, owners))
  }
}
