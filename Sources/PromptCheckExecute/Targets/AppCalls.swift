import Foundation
import PromptCheckCore
import Synchronization

/// The model calls the app under test makes during one case (README "Testing your app"): when
/// the case calls, each is forwarded to the provider and kept; when it replays with the app
/// running (`--live-target`), each is answered from the cassette's `app` steps — matched by
/// canonical body, in order for identical bodies — and a call the cassette lacks is a miss that
/// errors the case. One log per case; the endpoint finds it by the case's token.
package final class AppCallLog: Sendable {
  /// Replaying: the cassette's app steps; nil: calls are forwarded live.
  package let recorded: [Cassette.StepRecord]?
  /// Where a forwarded call goes, and who makes it.
  package let provider: Provider
  package let client: ChatClient?
  package let redactor: Redactor
  package let budget: CostBudget

  struct State {
    var steps: [Cassette.StepRecord] = []
    var used: Set<Int> = []
    var miss: String?
    var attempts = 0
  }

  private let state = Mutex(State())

  package init(
    recorded: [Cassette.StepRecord]?, provider: Provider, client: ChatClient?, redactor: Redactor, budget: CostBudget
  ) {
    self.recorded = recorded
    self.provider = provider
    self.client = client
    self.redactor = redactor
    self.budget = budget
  }

  /// The calls kept, in the order they were answered.
  package var steps: [Cassette.StepRecord] { state.withLock { $0.steps } }
  /// The first call that could not be answered (replay), said as the case's error.
  package var miss: String? { state.withLock { $0.miss } }
  package var attempts: Int { state.withLock { $0.attempts } }

  /// The recorded answer to a call (`path` the endpoint's, e.g. `/chat/completions`), marking it
  /// used; or why there is none (the closest recorded call and where it differs).
  package func replay(path: String, body: JSON) -> Result<Cassette.StepRecord, AppCallMiss> {
    guard let recorded else { return .failure(AppCallMiss(message: "nothing is recorded")) }
    let now = redactor(body).canonicalized
    return state.withLock { s in
      let number = s.steps.count + 1
      for (i, r) in recorded.enumerated() where !s.used.contains(i) && r.kind == .app {
        let recordedPath = URLParts.path(of: r.request["url"]?.stringValue ?? "")
        guard recordedPath.hasSuffix(path), (r.request["body"] ?? .null).canonicalized == now else { continue }
        s.used.insert(i)
        s.steps.append(r)
        return .success(r)
      }
      // The closest: the next unused recorded call of the same endpoint.
      var message = "the app's model call \(number) is not in the cassette"
      if let (_, r) = recorded.enumerated().first(where: { !s.used.contains($0.offset) && $0.element.kind == .app }) {
        let diff =
          Cassette.firstDifference((r.request["body"] ?? .null).canonicalized, now, path: "body") ?? "body"
        message += "; the next recorded one differs at \(diff)"
      } else {
        message += " (it recorded \(recorded.count { $0.kind == .app }), all answered)"
      }
      if s.miss == nil { s.miss = message }
      return .failure(AppCallMiss(message: message))
    }
  }

  /// Forwards a call to the provider (under `--max-cost`, with the client's retries) and keeps it;
  /// a failure is the case's error too.
  package func forward(_ request: ChatRequest) async -> Result<Exchange, CallError> {
    guard let client else { return .failure(CallError(.noCassette, "no client to call the API in this mode")) }
    let (outcome, completion) = await callLive(request, client: client, budget: budget)
    if case .failure(let e) = completion {
      failed("the app's model call \(steps.count + 1) failed: \(e.message)")
      return .failure(e)
    }
    guard let outcome, case .success(let exchange) = outcome.result else {
      return .failure(CallError(.badBody, "no answer"))
    }
    keep(exchange, attempts: outcome.attempts)
    return .success(exchange)
  }

  /// Keeps a forwarded call's exchange as the case's next app step.
  package func keep(_ exchange: Exchange, attempts: Int) {
    let record = Cassette.StepRecord(
      kind: .app, durationMS: Int((exchange.duration * 1000).rounded()),
      request: ["method": .string(exchange.method), "url": .string(exchange.url), "body": exchange.requestBody],
      response: ["status": .int(exchange.status), "body": exchange.decoded.body])
    state.withLock {
      $0.steps.append(record)
      $0.attempts += attempts
    }
  }

  /// A forwarded call that failed: the case errors with it.
  package func failed(_ message: String) { state.withLock { s in if s.miss == nil { s.miss = message } } }
}

package struct AppCallMiss: Error, Sendable {
  package var message: String
}

/// The loopback endpoint an app's model calls go to (implemented by `serve`'s HTTP server): each
/// case opens a session, its calls tagged by a token in the URL path.
package protocol AppEndpoint: Sendable {
  /// The base URL (ending `/v1`) a case's app is given; its calls go to `log`.
  func open(_ token: String, _ log: AppCallLog) -> String
  func close(_ token: String)
  /// The base URL of a started app's target (one process for every case): its calls go to the
  /// case opened under `token` by `attach`, one case at a time.
  func shared(_ target: String) -> String
  func attach(_ target: String, token: String)
}
