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
  /// Re-recorded with a different answer: the diff from the old answer to the new.
  package var recordedChange: String?

  package init(
    result: Result<Completion, CallError>, attempts: Int, cassette: CassetteReport, notes: [String] = [],
    recordedChange: String? = nil
  ) {
    self.result = result
    self.attempts = attempts
    self.cassette = cassette
    self.notes = notes
    self.recordedChange = recordedChange
  }
}

/// `--max-cost`: the summed cost of live calls, shared by every case of a run. Each call
/// reserves its worst case before it is sent (from its `max_tokens` and the provider's
/// `pricing`, else the dearest call so far), so concurrent calls cannot together overshoot
/// the budget by more than one call's worth; a call that does not fit is not sent.
package final class CostBudget: Sendable {
  package let limit: Double?

  struct State {
    var spent = 0.0
    var reserved = 0.0
    /// Calls in flight whose cost could not be estimated (at most one at a time).
    var unestimated = 0
    /// The dearest call so far: the estimate when there is no pricing.
    var dearest: Double?
    var notSent = 0
  }

  private let state = Mutex(State())

  package init(limit: Double?) { self.limit = limit }

  package var total: Double { state.withLock { $0.spent } }
  package var notSent: Int { state.withLock { $0.notSent } }

  package enum Reservation: Sendable {
    /// Send it; settle with this estimate afterwards.
    case granted(Double?)
    /// It does not fit: the message says why.
    case refused(String)
    /// Wait for a call in flight to settle (no estimate yet).
    case wait
  }

  /// Reserves a call's estimated cost (nil: unknown until a call has cost something).
  func reserve(_ estimate: Double?) -> Reservation {
    guard let limit else { return .granted(nil) }
    return state.withLock { s in
      // The larger of the estimate and the dearest call so far: an estimate can be low.
      let worst = [estimate, s.dearest].compactMap { $0 }.max()
      if let worst {
        if s.spent + s.reserved + worst > limit + 1e-12 || s.spent >= limit {
          s.notSent += 1
          return .refused(
            "budget exhausted: not sent, live calls have cost $\(NumberText.money(s.spent))"
              + (s.reserved > 0 ? " (and $\(NumberText.money(s.reserved)) is reserved by calls in flight)" : "")
              + " of the --max-cost $\(NumberText.money(limit)), and this call may cost up to $\(NumberText.money(worst))"
          )
        }
        s.reserved += worst
        return .granted(worst)
      }
      if s.spent >= limit {
        s.notSent += 1
        return .refused(
          "budget exhausted: not sent, live calls have cost $\(NumberText.money(s.spent)) of the --max-cost $\(NumberText.money(limit))"
        )
      }
      if s.unestimated > 0 { return .wait }
      s.unestimated += 1
      return .granted(nil)
    }
  }

  /// Releases a reservation and adds what the call cost.
  func settle(_ reservation: Double?, cost: Double?) {
    state.withLock { s in
      if let r = reservation { s.reserved -= r } else if limit != nil { s.unestimated -= 1 }
      if let cost {
        s.spent += cost
        s.dearest = max(s.dearest ?? 0, cost)
      }
    }
  }

  /// The worst case of a call from its `max_tokens` and the provider's pricing; nil without pricing.
  static func estimate(_ c: PlannedCase) -> Double? {
    guard let pricing = c.provider.pricing else { return nil }
    // A token is 3 to 4 bytes of text (3 here, to stay above), plus a few per message; the
    // completion is at most max_tokens (else 4096).
    let promptTokens = c.variant.messages.reduce(0) { n, m in
      let content = m["content"]
      return n + 4 + (content?.stringValue ?? content?.serialized() ?? "").utf8.count / 3
    }
    let limit: Int
    switch c.variant.params["max_tokens"] ?? c.variant.params["max_completion_tokens"] {
    case .int(let n)?: limit = n
    default: limit = 4096
    }
    return pricing.cost(promptTokens: promptTokens, completionTokens: limit)
  }
}

/// One live call within the budget: the exchange (for recording) and the decoded completion.
func callLive(_ c: PlannedCase, client: ChatClient, budget: CostBudget) async -> (
  CallOutcome?, Result<Completion, CallError>
) {
  var reservation: Double?
  reserving: while true {
    switch budget.reserve(CostBudget.estimate(c)) {
    case .granted(let r):
      reservation = r
      break reserving
    case .refused(let message):
      return (nil, .failure(CallError(.budget, message)))
    case .wait:
      do {
        try await Task.sleep(for: .milliseconds(20))
      } catch {
        return (nil, .failure(ChatClient.cancelled))
      }
    }
  }
  let outcome = await client.call(c.request)
  switch outcome.result {
  case .success(let exchange):
    let completion = Completion(response: exchange.decoded.body, latencyMS: Int((exchange.duration * 1000).rounded()))
      .pricedWith(c.provider.pricing)
    budget.settle(reservation, cost: completion.usage?.cost)
    return (outcome, .success(completion))
  case .failure(let e):
    budget.settle(reservation, cost: nil)
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
  /// `think_tags`: whether inline `<think>` blocks move to the reasoning.
  package var thinkTags: Config.ThinkTags

  package init(
    source: any CompletionSource, jobs: Int, mode: RunMode, goldens: GoldenStore? = nil, redactor: Redactor = .none,
    thinkTags: Config.ThinkTags = .split
  ) {
    self.source = source
    self.jobs = max(1, jobs)
    self.mode = mode
    self.goldens = goldens
    self.redactor = redactor
    self.thinkTags = thinkTags
  }

  /// The completion as every later stage sees it: secrets removed, inline thinking split
  /// off (unless `think_tags: keep`), and priced from the provider's `pricing` where the
  /// server reported no cost.
  func presented(_ completion: Completion, _ c: PlannedCase) -> Completion {
    let redacted = redactor(completion)
    return (thinkTags == .split ? redacted.splittingThinkTags() : redacted).pricedWith(c.provider.pricing)
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
    result.recordedChange = fetched.recordedChange.map { redactor($0) }
    switch fetched.result.map({ presented($0, c) }) {
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
