import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import Synchronization

/// The execute and evaluate stages: runs planned cases, at most `jobs` at once,
/// and reports each step as an event.
package struct Runner: Sendable {
  /// Wrapped in a `RedactingSource`: what it returns enters the run with no secret in it.
  package var source: any CompletionSource
  package var evaluator = AssertionEvaluator()
  package var jobs: Int
  package var mode: RunMode
  package var goldens: GoldenStore?
  /// The run's secrets: answers are redacted as they enter (`RedactingSource`), the request where
  /// a report shows it.
  package var redactor: Redactor
  /// `think_tags`: whether inline `<think>` blocks move to the reasoning.
  package var thinkTags: Config.ThinkTags
  /// The run's MCP servers, for looped cases that name them (never started by a replay).
  package var mcp: MCPHub?
  /// Cases whose target is the team's app (README "Testing your app").
  package var targets: TargetSource?

  package init(
    source: any CompletionSource, jobs: Int, mode: RunMode, goldens: GoldenStore? = nil, redactor: Redactor = .none,
    thinkTags: Config.ThinkTags = .split
  ) {
    self.source = redactor.isEmpty ? source : RedactingSource(source, redactor: redactor)
    self.jobs = max(1, jobs)
    self.mode = mode
    self.goldens = goldens
    self.redactor = redactor
    self.thinkTags = thinkTags
  }

  /// The completion as every later stage sees it (its secrets already removed by the source):
  /// inline thinking split off (unless `think_tags: keep`), and priced from the provider's
  /// `pricing` where the server reported no cost.
  func presented(_ completion: Completion, _ c: PlannedCase) -> Completion {
    (thinkTags == .split ? completion.splittingThinkTags() : completion).pricedWith(c.provider.pricing)
  }

  /// Steps with their answers presented (an app's model calls, read from its cassette or log).
  func presented(_ steps: [Step], _ c: PlannedCase) -> [Step] {
    steps.map { s in
      var s = s
      if let answer = s.completion { s.completion = presented(answer, c) }
      return s
    }
  }

  package func run(_ cases: [PlannedCase], emit: (RunEvent) -> Void) async -> RunSummary {
    let startedAt = Date()
    let clock = ContinuousClock()
    let start = clock.now
    emit(.runStarted(RunStart(startedAt: startedAt, caseCount: cases.count, mode: mode)))
    // A unit runs on its own: one case, or the samples of an adaptive repeat, drawn in turn. A
    // unit is its first case; an adaptive repeat's other samples are kept aside.
    var units: [Int] = []
    units.reserveCapacity(cases.count)
    var laterSamples: [Int: [Int]] = [:]
    var unitOfGroup: [String: Int] = [:]
    for (i, c) in cases.enumerated() {
      if c.adaptiveMin != nil, let u = unitOfGroup[c.groupID] {
        laterSamples[u, default: []].append(i)
      } else {
        if c.adaptiveMin != nil { unitOfGroup[c.groupID] = units.count }
        units.append(i)
      }
    }
    // Cases are reported in plan order as they come, and let go.
    var order = ReportOrder(cases, goldens: goldens)
    var totals = ReportTotals()
    func report(_ r: CaseResult) {
      let c = ReportCase(r)
      totals.add(c)
      emit(.caseReported(c))
    }
    var completed = 0
    await withTaskGroup(of: [(Int, CaseResult)].self) { group in
      var started = 0
      func startNext() {
        guard started < units.count else { return }
        let unit = ([units[started]] + (laterSamples[started] ?? [])).map { ($0, cases[$0]) }
        started += 1
        for (_, c) in unit { emit(.caseStarted(c)) }
        group.addTask { await self.execute(unit: unit) }
      }
      for _ in 0..<min(jobs, units.count) { startNext() }
      while let unitResults = await group.next() {
        for (i, result) in unitResults {
          completed += 1
          emit(.caseFinished(result, completed: completed, total: cases.count))
          for r in order.take(i, result) { report(r) }
        }
        startNext()
      }
    }
    for r in order.drain() { report(r) }
    let elapsed = clock.now - start
    let summary = RunSummary(
      startedAt: startedAt, durationMS: elapsed.milliseconds, mode: mode,
      groups: order.groups, totals: totals)
    emit(.runFinished(summary))
    return summary
  }

  /// Runs a unit: a single case, or an adaptive repeat's samples one after another until
  /// the SPRT decides (or `max` is reached); the samples not needed are skipped, saying so.
  func execute(unit: [(Int, PlannedCase)]) async -> [(Int, CaseResult)] {
    guard unit.count > 1 else { return await unit.asyncMap { ($0.0, await execute($0.1)) } }
    var out: [(Int, CaseResult)] = []
    var passes = 0
    var runs = 0
    for (i, c) in unit {
      if PassRateGate.needsAnotherSample(c, passes: passes, runs: runs) {
        let r = await execute(c)
        if r.status != .skipped { runs += 1 }
        if r.status == .passed { passes += 1 }
        out.append((i, r))
      } else {
        let decided = PassRateStatistics.SPRT(rate: c.minPassRate ?? 1).decide(passes: passes, runs: runs)
        out.append(
          (
            i,
            CaseResult(
              plannedCase: c,
              outcome: .skipped("not needed: the SPRT decided \(decided.rawValue) after \(runs) samples"),
              findings: [], completion: nil, durationMS: 0, attempts: 0,
              cassette: CassetteReport(path: "", status: .none),
              golden: GoldenReport(status: .none))
          ))
      }
    }
    return out
  }

  /// Runs one case: fetch, evaluate every assertion, compare the golden.
  package func execute(_ c: PlannedCase) async -> CaseResult {
    let clock = ContinuousClock()
    let start = clock.now
    let noGolden = GoldenReport(status: .none)
    if let reason = c.skip {
      return CaseResult(
        plannedCase: c, outcome: .skipped(reason), findings: [], completion: nil, durationMS: 0, attempts: 0,
        cassette: CassetteReport(path: "", status: .none), golden: noGolden)
    }
    // A looped case with MCP servers offers their tools beside its own.
    var c = c
    var mcpTools: [String: String] = [:]
    if let loop = c.variant.loop, !loop.mcp.isEmpty {
      switch await offeringMCPTools(c, loop: loop) {
      case .success(let (offered, owners)):
        c = offered
        mcpTools = owners
      case .failure(let e):
        return CaseResult(
          plannedCase: c, outcome: .errored(redactor(e.message)), findings: [], durationMS: 0, attempts: 0,
          cassette: CassetteReport(path: "", status: .none), golden: noGolden)
      }
    }
    var fetched: FetchResult
    if c.variant.appTarget != nil {
      guard let targets else {
        return CaseResult(
          plannedCase: c, outcome: .errored("no app targets in this run"), findings: [], durationMS: 0, attempts: 0,
          cassette: CassetteReport(path: "", status: .none), golden: noGolden)
      }
      fetched = await targets.fetch(c)
    } else {
      fetched = await source.fetch(c)
    }
    // The request as reports show it (the answer came in redacted).
    var shown = c
    shown.variant.messages = c.variant.messages.map { redactor($0) }
    // The outcome is set on every path below.
    var result = CaseResult(
      plannedCase: shown, outcome: .errored(""), findings: [], completion: nil, durationMS: 0,
      attempts: fetched.attempts, cassette: fetched.cassette, golden: noGolden,
      notes: fetched.notes)
    result.recordedChange = fetched.recordedChange
    switch fetched.result.map({ presented($0, c) }) {
    case .failure(let e):
      result.outcome = .errored(e.message)
    case .success(let first):
      // A single request is a one-step case; a looped case runs its loop from here.
      var completion = first
      var loopFinding: Finding?
      var turnRun: ConversationRun?
      // An app target's first answer comes with its model calls.
      let targetSteps: [Step]? =
        c.variant.appTarget == nil
        ? nil
        : presented(fetched.stepRecords.compactMap { try? $0.step().get() }, c)
          + [Step(kind: .target, answer: .completion(first), durationMS: first.latencyMS)]
      if let conversation = c.variant.conversation {
        let run = await runConversation(
          c, conversation, first: first, firstSteps: targetSteps, mcpTools: mcpTools, fetched: &fetched)
        result.steps = run.steps
        result.attempts = fetched.attempts
        result.notes = fetched.notes
        result.conversation = ConversationFacts(opening: conversation.turns.first?.user ?? "", ending: run.ending)
        if let error = run.error {
          // It did not end: it stopped on the error.
          result.conversation?.ending = nil
          result.cassette = fetched.cassette
          result.outcome = .errored(error)
          break
        }
        completion = run.steps.finalAnswerIndex.flatMap { run.steps[$0].completion } ?? first
        turnRun = run
      } else if let loop = c.variant.loop {
        let run = await runLoop(c, loop: loop, first: first, mcpTools: mcpTools, fetched: &fetched)
        result.steps = run.steps
        result.attempts = fetched.attempts
        result.notes = fetched.notes
        if let error = run.error {
          // Nothing is recorded of a case that errors.
          result.cassette = fetched.cassette
          result.outcome = .errored(error)
          break
        }
        completion = run.steps.finalAnswerIndex.flatMap { run.steps[$0].completion } ?? first
        loopFinding = run.finding
      } else if let targetSteps {
        result.steps = targetSteps
      } else {
        result.steps = [.model(first)]
      }
      // The judges are attached to the step whose answer they judge, the final one.
      // A looped case's assertions and judges read its steps; a single request's read its answer.
      let trajectory = c.variant.isMultiStep ? result.steps : []
      let judged = await judge(
        c, completion: completion, steps: trajectory, conversation: result.conversation, fetched: fetched)
      // A conversation's turns' judges are already on their replies: the test's own are added.
      if let i = result.steps.finalAnswerIndex, let u = judged.usage {
        result.steps[i].judgeUsage = result.steps[i].judgeUsage.map { $0.adding(u) } ?? u
      }
      result.findings =
        (turnRun?.findings ?? [])
        + evaluator.evaluate(
          c.variant.assertions, on: completion, judgements: judged.judgements, transforms: c.variant.transforms,
          steps: trajectory, conversation: result.conversation)
      if let loopFinding { result.findings.append(loopFinding) }
      result.notes += turnRun?.notes ?? []
      var errors = (turnRun?.judgeErrors ?? []) + (turnRun?.goldenErrors ?? []) + judged.errors
      if let e = source.finish(c, fetched: &fetched, judges: (turnRun?.judgeRecords ?? []) + judged.records) {
        errors.append(e.message)
      }
      result.cassette = fetched.cassette
      if let status = turnRun?.cassetteStatus ?? judged.cassetteStatus { result.cassette.status = status }
      if let spec = c.golden, let goldens {
        let g = goldens.compare(c, spec: spec, completion: completion, deferWrites: c.repeatIndex != nil)
        result.goldenText = g.text
        result.golden = g.report
        if let finding = g.finding { result.findings.append(finding) }
        result.notes += g.notes
        if let error = g.error { errors.append(error) }
      }
      if !errors.isEmpty {
        result.outcome = .errored(errors.joined(separator: "\n"))
        break
      }
      // The raw response is not reported (the content, usage and model are): a long run keeps
      // only what its reports and summary need.
      for i in result.steps.indices {
        guard var answer = result.steps[i].completion else { continue }
        answer.response = .null
        result.steps[i].completion = answer
      }
      let decision = CaseDecision.decide(result.findings, threshold: c.variant.threshold)
      result.score = decision.score
      if let note = decision.note { result.notes.append(note) }
      result.outcome = decision.passed ? .passed : .failed
    }
    let elapsed = clock.now - start
    result.durationMS = elapsed.milliseconds
    return result
  }
}
