import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute

/// What a conversation case did (README "Conversations").
struct ConversationRun {
  var steps: [Step] = []
  /// Why the case errors: a step the cassette lacks, a failed call, a tool nothing answers.
  var error: String?
  /// Every turn's checks, in turn order (a turn's tool loop reaching `max_steps` among them).
  var findings: [Finding] = []
  var ending: Conversation.Ending = .script
  /// The turns' judge calls, to keep in the cassette; and the problems they had.
  var judgeRecords: [Cassette.JudgeRecord] = []
  var judgeErrors: [String] = []
  var cassetteStatus: CassetteReport.Status?
  /// The turns' goldens: what they noted, and a golden that could not be read or written.
  var notes: [String] = []
  var goldenErrors: [String] = []
}

extension Runner {
  /// Runs a conversation from turn 1's reply: each turn's reply (a tool loop when the test has
  /// tool sources) checked by that turn's assertions, then the next user message — the next
  /// scripted turn, else the simulated user's — appended and answered, until the script and the
  /// simulator are done, the simulator says its stop marker, or a failing turn stops it.
  func runConversation(
    _ c: PlannedCase, _ conversation: Conversation, first: Completion, firstSteps: [Step]? = nil,
    mcpTools: [String: String], fetched: inout FetchResult
  ) async -> ConversationRun {
    var run = ConversationRun()
    var messages = c.variant.messages
    var steps: [Step] = firstSteps ?? [.model(first)]
    let opening = conversation.turns.first?.user ?? ""
    var answer = first
    var turn = 1
    while true {
      // The turn's reply: a tool loop runs from its first model step.
      if let loop = c.variant.loop {
        let looped = await runLoop(
          c, loop: loop, answer: answer, messages: &messages, steps: &steps, turn: turn, mcpTools: mcpTools,
          fetched: &fetched)
        if let error = looped.error {
          run.steps = steps
          run.error = error
          return run
        }
        if let finding = looped.finding {
          run.findings.append(finding)
          run.steps = steps
          run.ending = .turnFailure
          return run
        }
        answer = steps.last?.completion ?? answer
      }
      messages.append(Self.replyMessage(answer))
      // The turn's own checks, on its reply, and its golden.
      var turnFindings: [Finding] = []
      if turn <= conversation.turns.count, let spec = conversation.turns[turn - 1].golden, let goldens {
        let g = goldens.compare(c, spec: spec, completion: answer, turn: turn)
        if var f = g.finding {
          f.location = conversation.turns[turn - 1].location
          turnFindings.append(f)
        }
        run.notes += g.notes
        if let e = g.error { run.goldenErrors.append(e) }
      }
      if turn <= conversation.turns.count, !conversation.turns[turn - 1].assertions.isEmpty {
        let checks = conversation.turns[turn - 1].assertions
        let facts = ConversationFacts(opening: opening, ending: nil)
        let judged = await judge(
          c, assertions: checks, completion: answer, steps: steps, conversation: facts, fetched: fetched)
        if let i = steps.finalAnswerIndex, let u = judged.usage {
          steps[i].judgeUsage = steps[i].judgeUsage.map { $0.adding(u) } ?? u
        }
        run.judgeRecords += judged.records
        run.judgeErrors += judged.errors
        if let s = judged.cassetteStatus { run.cassetteStatus = s }
        turnFindings =
          evaluator.evaluate(checks, on: answer, judgements: judged.judgements, steps: steps, conversation: facts)
          + turnFindings
      }
      run.findings += turnFindings
      if conversation.onFailure == .stop, !turnFindings.isEmpty,
        !CaseDecision.decide(turnFindings, threshold: nil).passed
      {
        run.ending = .turnFailure
        break
      }
      // The next user message: the script's, else the simulated user's.
      let number = steps.count + 1
      let scripted = turn < conversation.turns.count ? conversation.turns[turn].user : nil
      var simulator: ChatRequest?
      if scripted == nil {
        guard let simulation = conversation.simulate else {
          run.ending = .script
          break
        }
        guard turn < simulation.maxTurns else {
          run.ending = .maxTurns
          break
        }
        simulator = simulation.request(for: c, conversation: messages)
      }
      // A scripted turn takes no time (as its cassette step records); a simulated one its call's.
      switch await source.userTurn(
        c, number: number, turn: turn + 1, scripted: scripted, simulator: simulator, fetched: &fetched)
      {
      case .failure(let e):
        run.steps = steps
        run.error = e.message
        return run
      case .success(let (text, simulated)):
        // A simulated user's message holding its stop marker ends the conversation, unsent.
        var said = text
        if simulator != nil, let simulation = conversation.simulate {
          guard let message = simulation.userMessage(from: text) else {
            run.ending = .stop
            run.steps = steps
            return run
          }
          said = message
        }
        var step = Step(
          kind: .user, request: simulator.map { redactor($0.body) } ?? .null, answer: .text(said),
          durationMS: simulated?.latencyMS ?? 0)
        step.simulatorUsage = simulated.map { $0.pricedWith(simulator?.provider.pricing) }?.usage
        steps.append(step)
        messages.append(["role": "user", "content": .string(said)])
      }
      turn += 1
      // The reply to it: the model's, or the app's (asked again with the conversation so far).
      if c.variant.appTarget != nil, let targets {
        switch await targets.fetchTurn(c, messages: messages, number: steps.count + 1, turn: turn, fetched: &fetched) {
        case .failure(let e):
          run.steps = steps
          run.error = e.message
          return run
        case .success(let more):
          steps += presented(more, c)
          answer = steps.last?.completion ?? answer
        }
      } else {
        switch await source.fetchStep(
          c, number: steps.count + 1, request: c.request(messages: messages), turn: turn, fetched: &fetched)
        {
        case .failure(let e):
          run.steps = steps
          run.error = e.message
          return run
        case .success(let next):
          answer = presented(next, c)
          steps.append(.model(answer))
        }
      }
    }
    run.steps = steps
    return run
  }
}
