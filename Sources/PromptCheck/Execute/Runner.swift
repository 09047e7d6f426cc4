import Foundation
import Synchronization

/// Produces the completion for a case and its judges' answers: over the network, or from a
/// cassette. Nothing is written until `finish`, so a cassette holds a case's main call and its
/// judge calls together, written once.
package protocol CompletionSource: Sendable {
  func fetch(_ c: PlannedCase) async -> FetchResult
  /// One grader or embeddings call of the case (README "Recorded judges").
  func judge(_ call: JudgeCall, for c: PlannedCase, fetched: FetchResult) async -> Result<JudgeAnswer, CallError>
  /// Writes what the case recorded; an error when it could not be written.
  func finish(_ c: PlannedCase, fetched: inout FetchResult, judges: [Cassette.JudgeRecord]) -> CallError?
}

/// A judge call's answer, replayed or live.
package struct JudgeAnswer: Sendable {
  package var record: Cassette.JudgeRecord
  package var replayed: Bool
}

package struct FetchResult: Sendable {
  package var result: Result<Completion, CallError>
  package var attempts: Int
  package var cassette: CassetteReport
  package var notes: [String] = []
  /// Re-recorded with a different answer: the diff from the old answer to the new.
  package var recordedChange: String?
  /// The readable cassette on disk, for judge calls to replay from.
  package var onDisk: Cassette?
  /// A new recording of the main call, written by `finish` with its judges.
  package var toRecord: Cassette?

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
  static func estimate(_ r: ChatRequest) -> Double? {
    guard let pricing = r.provider.pricing else { return nil }
    // A token is 3 to 4 bytes of text (3 here, to stay above), plus a few per message; the
    // completion is at most max_tokens (else 4096; none for embeddings).
    var promptTokens = r.messages.reduce(0) { n, m in
      let content = m["content"]
      return n + 4 + (content?.stringValue ?? content?.serialized() ?? "").utf8.count / 3
    }
    let limit: Int
    switch r.endpoint {
    case .embeddings(let input):
      promptTokens = input.reduce(0) { $0 + 4 + $1.utf8.count / 3 }
      limit = 0
    case .chat:
      switch r.params["max_tokens"] ?? r.params["max_completion_tokens"] {
      case .int(let n)?: limit = n
      default: limit = 4096
      }
    }
    return pricing.cost(promptTokens: promptTokens, completionTokens: limit)
  }
}

/// One live call of a request (a case's, or a judge's) within the budget.
func callLive(_ request: ChatRequest, client: ChatClient, budget: CostBudget) async -> (
  CallOutcome?, Result<Completion, CallError>
) {
  var reservation: Double?
  reserving: while true {
    switch budget.reserve(CostBudget.estimate(request)) {
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
  let outcome = await client.call(request)
  switch outcome.result {
  case .success(let exchange):
    let completion = Completion(response: exchange.decoded.body, latencyMS: Int((exchange.duration * 1000).rounded()))
      .withEmbeddingUsage(request.endpoint != .chat).pricedWith(request.provider.pricing)
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
    var fetched = await source.fetch(c)
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
      let judged = await judge(c, completion: completion, fetched: fetched)
      result.judgeUsage = judged.usage
      result.findings = evaluator.evaluate(
        c.variant.assertions, on: completion, judgements: judged.judgements, transforms: c.variant.transforms)
      var errors = judged.errors
      if let e = source.finish(c, fetched: &fetched, judges: judged.records) { errors.append(redactor(e.message)) }
      result.cassette = fetched.cassette
      if let status = judged.cassetteStatus { result.cassette.status = status }
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
      result.completion?.response = .null
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

/// Puts finished cases in plan order for the reports: the few that finish ahead of an earlier
/// case wait, and a repeated test's samples wait until the last is in (the pass-rate gate and
/// its one golden need them all).
struct ReportOrder {
  private var ahead: [Int: CaseResult] = [:]
  private var next = 0
  /// Samples still to come, per repeated test not settled yet.
  private var samplesLeft: [String: Int] = [:]
  /// In plan order, not reported yet: an unsettled repeated test's samples and what follows them.
  private var waiting: [CaseResult] = []
  private var settled: [(first: Int, group: RepeatGroup)] = []
  let goldens: GoldenStore?

  init(_ cases: [PlannedCase], goldens: GoldenStore?) {
    self.goldens = goldens
    for c in cases where c.repeatIndex != nil { samplesLeft[c.groupID, default: 0] += 1 }
  }

  /// Every repeated test's figures, in plan order.
  var groups: [RepeatGroup] { settled.sorted { $0.first < $1.first }.map(\.group) }

  /// Takes the case at plan position `i`; the cases that can be reported now, in order.
  mutating func take(_ i: Int, _ result: CaseResult) -> [CaseResult] {
    ahead[i] = result
    var ready: [CaseResult] = []
    while let r = ahead.removeValue(forKey: next) {
      next += 1
      waiting.append(r)
      if r.plannedCase.repeatIndex != nil { sampleArrived(r.plannedCase.groupID) }
      let n = waiting.firstIndex { $0.plannedCase.repeatIndex != nil && samplesLeft[$0.plannedCase.groupID] != nil }
      let count = n ?? waiting.count
      ready += waiting[..<count]
      waiting.removeFirst(count)
    }
    return ready
  }

  /// What is still held when the run ends (nothing, unless a case never came back): in plan
  /// order, each repeated test settled on the samples it has.
  mutating func drain() -> [CaseResult] {
    for i in ahead.keys.sorted() { if let r = ahead.removeValue(forKey: i) { waiting.append(r) } }
    var seen = Set<String>()
    for r in waiting where r.plannedCase.repeatIndex != nil && seen.insert(r.plannedCase.groupID).inserted {
      samplesLeft[r.plannedCase.groupID] = 1
      sampleArrived(r.plannedCase.groupID)
    }
    defer { waiting.removeAll() }
    return waiting
  }

  private mutating func sampleArrived(_ group: String) {
    guard let left = samplesLeft[group] else { return }
    if left > 1 {
      samplesLeft[group] = left - 1
      return
    }
    samplesLeft[group] = nil
    let members = waiting.indices.filter {
      waiting[$0].plannedCase.repeatIndex != nil && waiting[$0].plannedCase.groupID == group
    }
    var samples = members.map { waiting[$0] }
    let first = samples.first?.plannedCase.index ?? 0
    settled += PassRateGate.apply(&samples).map { (first, $0) }
    goldens?.settleRepeats(&samples)
    for (k, i) in members.enumerated() { waiting[i] = samples[k] }
  }
}

/// What a case's judges found (README "Judged assertions").
struct JudgedCase {
  var judgements: [String: Result<Judgement, JudgeProblem>] = [:]
  /// The judge calls to keep in the cassette, in assertion order.
  var records: [Cassette.JudgeRecord] = []
  /// Problems that error the case: an unusable verdict, a failed command, a judge call not recorded.
  var errors: [String] = []
  /// The judges' tokens and cost (as recorded, for replayed ones).
  var usage: Completion.Usage?
  /// A judge call that was stale or missing in the cassette.
  var cassetteStatus: CassetteReport.Status?
}

extension Runner {
  /// Runs a case's judges one after another: grader and embeddings calls through the source
  /// (so they replay), `exec` commands locally.
  func judge(_ c: PlannedCase, completion: Completion, fetched: FetchResult) async -> JudgedCase {
    var out = JudgedCase()
    // Most cases have no judge: nothing to shape or look up for them.
    guard c.variant.assertions.contains(where: \.isJudged) else { return out }
    let calls = AssertionEvaluator.judgeCalls(
      for: c.variant.assertions, completion: completion, case: c, transforms: c.variant.transforms)
    for call in calls {
      let judgement: Result<Judgement, JudgeProblem>
      switch call.work {
      case .exec(let command, let input):
        judgement = await Self.runExec(command, input: input)
      case .grader(_, let threshold):
        judgement = await ask(call, c, fetched, &out).flatMap {
          Judging.verdict(from: $0, threshold: threshold).map(Judgement.verdict)
        }
      case .embeddings(let each):
        // One call per text; the first problem stops.
        var bodies: [JSON] = []
        var problem: JudgeProblem?
        for r in each {
          let one = JudgeCall(key: call.key, label: call.label, work: .embeddings([r]))
          switch await ask(one, c, fetched, &out) {
          case .success(let reply): bodies.append(reply.response)
          case .failure(let p): problem = p
          }
          if problem != nil { break }
        }
        judgement = problem.map { .failure($0) } ?? Judging.similarities(from: bodies).map(Judgement.similarities)
      }
      if case .failure(let problem) = judgement { out.errors.append("\(call.label): \(problem.message)") }
      out.judgements[call.key] = judgement
    }
    return out
  }

  /// One server call of a judge through the source: its record kept, its usage added up.
  func ask(_ call: JudgeCall, _ c: PlannedCase, _ fetched: FetchResult, _ out: inout JudgedCase) async -> Result<
    Completion, JudgeProblem
  > {
    switch await source.judge(call, for: c, fetched: fetched) {
    case .failure(let e):
      if e.kind == .staleCassette { out.cassetteStatus = .stale }
      if e.kind == .noCassette, out.cassetteStatus == nil { out.cassetteStatus = .missing }
      return .failure(JudgeProblem(redactor(e.message)))
    case .success(let answer):
      out.records.append(answer.record)
      let reply = Completion(response: answer.record.body, latencyMS: answer.record.durationMS)
        .withEmbeddingUsage(call.isEmbeddings).pricedWith(call.requests.first?.provider.pricing)
      if let u = reply.usage { out.usage = out.usage.map { $0.adding(u) } ?? u }
      return .success(redactor(reply))
    }
  }

  static func runExec(_ command: ExecCommand, input: String) async -> Result<Judgement, JudgeProblem> {
    switch await Subprocess.run(command.argv, input: input, timeoutMS: command.timeoutMS) {
    case .failure(let e):
      return .failure(JudgeProblem(e.message))
    case .success(let f) where f.timedOut:
      return .failure("`\(command.display)` ran longer than \(command.timeoutMS) ms (timeout_ms) and was killed")
    case .success(let f):
      guard let status = f.status else {
        return .failure("`\(command.display)` was ended by signal \(f.signal ?? 0)")
      }
      return Judging.execOutcome(status: status, stdout: f.stdout, stderr: f.stderr).map(Judgement.exec)
    }
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
