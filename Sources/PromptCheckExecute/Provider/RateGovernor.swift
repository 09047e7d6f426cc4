import Foundation
import PromptCheckCore
import Synchronization

/// The time the rate governor reads and waits on: the monotonic clock in a run, a clock of the
/// test's own in tests.
package protocol RateClock: Sendable {
  /// Seconds on a monotonic clock.
  func now() -> Double
  /// Sleeps; false when the task was cancelled meanwhile.
  func sleep(_ seconds: Double) async -> Bool
}

/// `ContinuousClock` in seconds.
package struct MonotonicRateClock: RateClock {
  let origin = ContinuousClock.now

  package init() {}

  package func now() -> Double {
    let d = ContinuousClock.now - origin
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
  }

  package func sleep(_ seconds: Double) async -> Bool {
    do {
      try await Task.sleep(for: .microseconds(Int64(max(0, seconds) * 1e6)))
      return true
    } catch {
      return false
    }
  }
}

/// Adaptive concurrency for live calls (README "Calling the API"): one `RateLane` per provider
/// (its host and key), `--jobs` the ceiling of each. Every model call of a run — a case's, a
/// judge's, a simulated user's, an app target's — asks it before each attempt and tells it how
/// the attempt went.
package final class RateGovernor: Sendable {
  /// A request let through: which lane, its number there, when it was sent.
  package struct Ticket: Sendable {
    package var lane: String
    package var number: UInt64
    package var sentAt: Double
  }

  enum Admission: Sendable {
    case admitted(UInt64, at: Double)
    case cancelled
  }

  struct Waiter {
    var id: UInt64
    var continuation: CheckedContinuation<Admission, Never>
  }

  struct State: ~Copyable {
    var lanes: [String: RateLane] = [:]
    /// Requests waiting for a slot, first come first served, per lane.
    var waiters: [String: [Waiter]] = [:]
    var nextWaiter: UInt64 = 0
    /// Waiters whose task was cancelled before they were queued.
    var cancelled: Set<UInt64> = []
  }

  package let ceiling: Int
  /// false (`--no-adapt`): every request goes at once and is only counted.
  package let adaptive: Bool
  let initialWindow: Int
  let clock: any RateClock
  let state = Mutex(State())

  /// `ceiling` is `--jobs`; a lane starts at `initialWindow` requests in flight and grows from there.
  package init(
    ceiling: Int, adaptive: Bool = true, initialWindow: Int = 1, clock: any RateClock = MonotonicRateClock()
  ) {
    self.ceiling = max(1, ceiling)
    self.adaptive = adaptive
    self.initialWindow = initialWindow
    self.clock = clock
  }

  /// The lane of a provider: the URL's scheme, host and port, and a digest of the key (the key
  /// itself is kept nowhere here).
  package static func lane(url: String, key: String?) -> String {
    var origin = url
    if let scheme = url.range(of: "://") {
      let rest = url[scheme.upperBound...]
      origin = String(url[..<scheme.upperBound]) + String(rest.prefix { $0 != "/" && $0 != "?" })
    }
    guard let key else { return origin }
    return origin + "#" + FNV1a.hex(FNV1a.hash(key))
  }

  /// Waits for a slot and the pace, then lets the request go; nil when the task was cancelled.
  package func acquire(lane: String) async -> Ticket? {
    guard adaptive else { return Task.isCancelled ? nil : Ticket(lane: lane, number: 0, sentAt: clock.now()) }
    let id = state.withLock { s -> UInt64 in
      s.nextWaiter += 1
      return s.nextWaiter
    }
    let admission = await withTaskCancellationHandler {
      await withCheckedContinuation { (c: CheckedContinuation<Admission, Never>) in
        let now = clock.now()
        let immediate = state.withLock { s -> Admission? in
          if s.cancelled.remove(id) != nil { return .cancelled }
          if s.waiters[lane]?.isEmpty ?? true,
            let (n, at) = s.lanes[lane, default: RateLane(ceiling: ceiling, initialWindow: initialWindow)].admit(
              now: now)
          {
            return .admitted(n, at: at)
          }
          s.waiters[lane, default: []].append(Waiter(id: id, continuation: c))
          return nil
        }
        if let immediate { c.resume(returning: immediate) }
      }
    } onCancel: {
      let waiter = state.withLock { s -> Waiter? in
        if let i = s.waiters[lane]?.firstIndex(where: { $0.id == id }) { return s.waiters[lane]?.remove(at: i) }
        s.cancelled.insert(id)
        return nil
      }
      waiter?.continuation.resume(returning: .cancelled)
    }
    state.withLock { _ = $0.cancelled.remove(id) }
    guard case .admitted(let number, var at) = admission else { return nil }
    // The slot is held while the pace (or a pause that began meanwhile) keeps the request back.
    while true {
      let now = clock.now()
      if at <= now {
        guard let later = state.withLock({ $0.lanes[lane]?.depart(now: now) }) else { break }
        at = later
        continue
      }
      guard await clock.sleep(at - now) else {
        release(lane) { $0.abandon() }
        return nil
      }
    }
    return Ticket(lane: lane, number: number, sentAt: clock.now())
  }

  /// The attempt `ticket` let through ended so; for a refusal, the seconds to wait before asking again.
  @discardableResult
  package func finish(_ ticket: Ticket, _ signal: RateSignal) -> Double? {
    guard adaptive else {
      state.withLock { $0.lanes[ticket.lane, default: RateLane(ceiling: ceiling)].counted(signal) }
      return nil
    }
    let now = clock.now()
    return release(ticket.lane) { $0.finish(ticket: ticket.number, sentAt: ticket.sentAt, now: now, signal) }
  }

  /// A refused request waits `seconds` before asking again.
  package func waited(_ ticket: Ticket, _ seconds: Double) {
    state.withLock { $0.lanes[ticket.lane]?.waited(seconds) }
  }

  /// Changes a lane, then gives its free slots to the requests waiting, in order.
  private func release<T>(_ lane: String, _ change: (inout RateLane) -> T) -> T {
    let now = clock.now()
    let (result, woken) = state.withLock { s -> (T, [(Waiter, Admission)]) in
      let result = change(&s.lanes[lane, default: RateLane(ceiling: ceiling, initialWindow: initialWindow)])
      var woken: [(Waiter, Admission)] = []
      while let first = s.waiters[lane]?.first, let (n, at) = s.lanes[lane]?.admit(now: now) {
        s.waiters[lane]?.removeFirst()
        woken.append((first, .admitted(n, at: at)))
      }
      return (result, woken)
    }
    for (w, a) in woken { w.continuation.resume(returning: a) }
    return result
  }

  /// The run's figures so far: every lane's counts, the busiest lane's window and pace.
  package var stats: RateLimitStats {
    state.withLock { s in
      var stats = RateLimitStats.combined(s.lanes.values.map(\.status))
      if !adaptive {
        stats.window = ceiling
        stats.ratePerSecond = nil
      }
      return stats
    }
  }
}
