import Foundation
import PromptCheckCore
import Synchronization

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
        return (nil, .failure(CallError.cancelled))
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
