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
    // A unit runs on its own: one case, or the samples of an adaptive repeat, drawn in turn.
    var units: [[Int]] = []
    var unitOfGroup: [String: Int] = [:]
    for (i, c) in cases.enumerated() {
      if c.adaptiveMin != nil, let u = unitOfGroup[c.groupID] {
        units[u].append(i)
      } else {
        if c.adaptiveMin != nil { unitOfGroup[c.groupID] = units.count }
        units.append([i])
      }
    }
    var results = [CaseResult?](repeating: nil, count: cases.count)
    var completed = 0
    await withTaskGroup(of: [(Int, CaseResult)].self) { group in
      var next = 0
      func startNext() {
        guard next < units.count else { return }
        let unit = units[next].map { ($0, cases[$0]) }
        next += 1
        for (_, c) in unit { emit(.caseStarted(c)) }
        group.addTask { await self.execute(unit: unit) }
      }
      for _ in 0..<min(jobs, units.count) { startNext() }
      while let finished = await group.next() {
        for (i, result) in finished {
          results[i] = result
          completed += 1
          emit(.caseFinished(result, completed: completed, total: cases.count))
        }
        startNext()
      }
    }
    var finished = results.compactMap { $0 }
    let groups = PassRateGate.apply(&finished)
    goldens?.settleRepeats(&finished)
    let elapsed = clock.now - start
    var summary = RunSummary(startedAt: startedAt, durationMS: elapsed.milliseconds, mode: mode, results: finished)
    summary.groups = groups
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
        let g = goldens.compare(c, spec: spec, completion: completion, deferWrites: c.repeatIndex != nil)
        result.goldenText = g.text
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

extension Array {
  /// `map` with an async transform, in order.
  func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
    var out: [T] = []
    out.reserveCapacity(count)
    for e in self { out.append(await transform(e)) }
    return out
  }
}
