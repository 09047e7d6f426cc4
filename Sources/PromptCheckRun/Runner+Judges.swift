import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import Synchronization

/// What a case's judges found (README "Judged assertions").
struct JudgedCase {
  var judgements: [String: Result<Judgement, JudgeError>] = [:]
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
  func judge(
    _ c: PlannedCase, assertions: [Assertion]? = nil, completion: Completion, steps: [Step] = [],
    conversation: ConversationFacts? = nil, fetched: FetchResult
  ) async -> JudgedCase {
    var out = JudgedCase()
    let assertions = assertions ?? c.variant.assertions
    // Most cases have no judge: nothing to shape or look up for them.
    guard assertions.contains(where: \.isJudged) else { return out }
    let calls = AssertionEvaluator.judgeCalls(
      for: assertions, completion: completion, case: c, transforms: c.variant.transforms, steps: steps,
      conversation: conversation)
    for call in calls {
      let judgement: Result<Judgement, JudgeError>
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
        var problem: JudgeError?
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
    Completion, JudgeError
  > {
    switch await source.judge(call, for: c, fetched: fetched) {
    case .failure(let e):
      if e.kind == .staleCassette { out.cassetteStatus = .stale }
      if e.kind == .noCassette, out.cassetteStatus == nil { out.cassetteStatus = .missing }
      return .failure(JudgeError(e.message))
    case .success(let answer):
      out.records.append(answer.record)
      let reply = Completion(response: answer.record.body, latencyMS: answer.record.durationMS)
        .withEmbeddingUsage(call.isEmbeddings).pricedWith(call.requests.first?.provider.pricing)
      if let u = reply.usage { out.usage = out.usage.map { $0.adding(u) } ?? u }
      return .success(reply)
    }
  }

  static func runExec(_ command: ExecCommand, input: String) async -> Result<Judgement, JudgeError> {
    switch await Subprocess.run(command.argv, input: input, timeoutMS: command.timeoutMS) {
    case .failure(let e):
      return .failure(JudgeError(e.message))
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
