import Foundation
import Synchronization

/// Produces the completion for a case: over the network, or from a cassette.
package protocol CompletionSource: Sendable {
  func fetch(_ c: PlannedCase) async -> FetchResult
}

package struct FetchResult: Sendable {
  package var result: Result<Completion, CallError>
  package var attempts: Int
  package var cassette: CassetteReport
  package var notes: [String] = []

  package init(result: Result<Completion, CallError>, attempts: Int, cassette: CassetteReport, notes: [String] = []) {
    self.result = result
    self.attempts = attempts
    self.cassette = cassette
    self.notes = notes
  }
}

/// `--max-cost`: the summed `usage.cost` of live calls, shared by every case of a run.
package final class CostBudget: Sendable {
  package let limit: Double?
  private let spent = Mutex(0.0)

  package init(limit: Double?) { self.limit = limit }

  package var total: Double { spent.withLock { $0 } }
  package var isExhausted: Bool { limit.map { l in spent.withLock { $0 >= l } } ?? false }
  package func add(_ cost: Double) { spent.withLock { $0 += cost } }
}

/// Calls the API for every case (live mode), within the cost budget.
package struct LiveSource: CompletionSource {
  package var client: ChatClient
  package var budget: CostBudget
  package var cassettePath: @Sendable (PlannedCase) -> String

  package init(client: ChatClient, budget: CostBudget, cassettePath: @escaping @Sendable (PlannedCase) -> String) {
    self.client = client
    self.budget = budget
    self.cassettePath = cassettePath
  }

  package func fetch(_ c: PlannedCase) async -> FetchResult {
    let (outcome, completion) = await callLive(c, client: client, budget: budget)
    return FetchResult(
      result: completion, attempts: outcome?.attempts ?? 0,
      cassette: CassetteReport(path: cassettePath(c), status: .live))
  }
}

/// One live call within the budget: the exchange (for recording) and the decoded completion.
func callLive(_ c: PlannedCase, client: ChatClient, budget: CostBudget) async -> (
  CallOutcome?, Result<Completion, CallError>
) {
  if budget.isExhausted {
    let limit = budget.limit.map { NumberText.money($0) } ?? "?"
    return (
      nil,
      .failure(
        CallError(
          .budget,
          "budget exhausted: live calls have cost $\(NumberText.money(budget.total)) of the --max-cost $\(limit)"))
    )
  }
  let outcome = await client.call(c.request)
  switch outcome.result {
  case .success(let exchange):
    let completion = Completion(response: exchange.decoded.body, latencyMS: Int((exchange.duration * 1000).rounded()))
    if let cost = completion.usage?.cost { budget.add(cost) }
    return (outcome, .success(completion))
  case .failure(let e):
    return (outcome, .failure(e))
  }
}

/// The execute and evaluate stages: runs planned cases, at most `jobs` at once,
/// and reports each step as an event.
package struct Runner: Sendable {
  package var source: any CompletionSource
  package var evaluator = AssertionEvaluator()
  package var jobs: Int
  package var mode: RunMode
  package var goldens: GoldenStore?
  /// Applied once to what a fetch returns, before anything else sees it.
  package var redactor: Redactor

  package init(
    source: any CompletionSource, jobs: Int, mode: RunMode, goldens: GoldenStore? = nil, redactor: Redactor = .none
  ) {
    self.source = source
    self.jobs = max(1, jobs)
    self.mode = mode
    self.goldens = goldens
    self.redactor = redactor
  }

  package func run(_ cases: [PlannedCase], emit: (RunEvent) -> Void) async -> RunSummary {
    let startedAt = Date()
    let clock = ContinuousClock()
    let start = clock.now
    emit(.runStarted(RunStart(startedAt: startedAt, caseCount: cases.count, mode: mode)))
    var results = [CaseResult?](repeating: nil, count: cases.count)
    var completed = 0
    await withTaskGroup(of: (Int, CaseResult).self) { group in
      var next = 0
      func startNext() {
        guard next < cases.count else { return }
        let i = next
        next += 1
        emit(.caseStarted(cases[i]))
        group.addTask { (i, await self.execute(cases[i])) }
      }
      for _ in 0..<min(jobs, cases.count) { startNext() }
      while let (i, result) = await group.next() {
        results[i] = result
        completed += 1
        emit(.caseFinished(result, completed: completed, total: cases.count))
        startNext()
      }
    }
    var finished = results.compactMap { $0 }
    RunSummary.applyPassRates(&finished)
    let elapsed = clock.now - start
    let summary = RunSummary(
      startedAt: startedAt, durationMS: elapsed.milliseconds,
      mode: mode, results: finished)
    emit(.runFinished(summary))
    return summary
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
    let fetched = await source.fetch(c)
    // The one place secrets are removed: goldens, reports and the terminal see only this.
    var shown = c
    shown.variant.messages = c.variant.messages.map { redactor($0) }
    // The outcome is set on every path below.
    var result = CaseResult(
      plannedCase: shown, outcome: .errored(""), findings: [], completion: nil, durationMS: 0,
      attempts: fetched.attempts, cassette: fetched.cassette, golden: noGolden,
      notes: fetched.notes.map { redactor($0) })
    switch fetched.result.map({ redactor($0) }) {
    case .failure(let e):
      result.outcome = .errored(redactor(e.message))
    case .success(let completion):
      result.completion = completion
      result.findings = evaluator.evaluate(c.variant.assertions, on: completion)
      if let spec = c.golden, let goldens {
        let g = goldens.compare(c, spec: spec, completion: completion)
        result.golden = g.report
        if let finding = g.finding { result.findings.append(finding) }
        result.notes += g.notes
        if let error = g.error {
          result.outcome = .errored(error)
          break
        }
      }
      result.outcome = result.findings.allSatisfy(\.passed) ? .passed : .failed
    }
    let elapsed = clock.now - start
    result.durationMS = elapsed.milliseconds
    return result
  }
}

extension Duration {
  /// Whole milliseconds.
  var milliseconds: Int {
    Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
  }
}
