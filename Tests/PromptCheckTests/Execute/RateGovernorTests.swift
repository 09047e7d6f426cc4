import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckExecute

/// The rate lane as a state machine over explicit times, a simulated token bucket driving it, and
/// the client with its governor against the loopback server.
@Suite struct RateLaneTests {
  @Test func windowGrowsByOneUntilTheFirstRefusalThenHalvesAndGrowsSlowly() throws {
    var lane = RateLane(ceiling: 64)
    #expect(lane.window == 1)
    // Slow start: each accepted answer adds one.
    for i in 0..<5 {
      let t = try admit(&lane, Double(i))
      lane.finish(ticket: t.ticket, sentAt: Double(i), now: Double(i) + 0.1, .accepted(nil))
    }
    #expect(lane.window == 6)
    // Six in flight fill it: a seventh waits.
    let tickets = (0..<6).compactMap { _ in lane.admit(now: 10) }
    #expect(tickets.count == 6)
    #expect(lane.admit(now: 10) == nil)
    // All six refused: the window halves once, not six times (they were sent before the halving).
    for t in tickets { lane.finish(ticket: t.ticket, sentAt: 10, now: 10.05, .limited(retryAfter: nil, nil)) }
    #expect(lane.window == 3)
    #expect(lane.stats.limited == 6)
    // After the first refusal: +1/window per answer.
    let t = try admit(&lane, 20)
    lane.finish(ticket: t.ticket, sentAt: 20, now: 20.1, .accepted(nil))
    #expect(abs(lane.window - (3 + 1.0 / 3)) < 1e-9)
  }

  @Test func theWindowNeverPassesItsCeiling() throws {
    var lane = RateLane(ceiling: 4)
    for i in 0..<20 {
      let t = try admit(&lane, Double(i))
      lane.finish(ticket: t.ticket, sentAt: Double(i), now: Double(i), .accepted(nil))
    }
    #expect(lane.window == 4)
  }

  @Test func overloadShrinksWithoutCountingAsARateLimit() throws {
    var lane = RateLane(ceiling: 16, initialWindow: 8)
    let t = try admit(&lane, 0)
    #expect(lane.finish(ticket: t.ticket, sentAt: 0, now: 0.1, .overloaded) == nil)
    #expect(lane.window == 4)
    #expect(lane.stats.limited == 0)
  }

  @Test func aRefusalWaitsAsRetryAfterSaysAndSpacesTheOthers() throws {
    var lane = RateLane(ceiling: 8, initialWindow: 4)
    let a = try admit(&lane, 0)
    let b = try admit(&lane, 0)
    lane.finish(ticket: b.ticket, sentAt: 0, now: 0.5, .accepted(nil))
    // Retry-After: 2.5 is this request's wait.
    #expect(lane.finish(ticket: a.ticket, sentAt: 0, now: 1, .limited(retryAfter: 2.5, nil)) == 2.5)
    // One refusal among answers: the lane goes on, at a pace learnt from the answers so far.
    #expect(lane.pausedUntil == 0)
    let interval = try #require(lane.interval)
    #expect(abs(interval - 2.0) < 1e-9)  // half the rate so far: 1 answer in 1 s
    let next = try admit(&lane, 1)
    #expect(next.at >= 1 + interval - 1e-9)
  }

  @Test func moreRefusalsInARowThanInFlightPauseTheLane() throws {
    var lane = RateLane(ceiling: 8, initialWindow: 2)
    let first = try admit(&lane, 0)
    let second = try admit(&lane, 0)
    lane.finish(ticket: first.ticket, sentAt: 0, now: 0.1, .limited(retryAfter: 3, nil))
    lane.finish(ticket: second.ticket, sentAt: 0, now: 0.1, .limited(retryAfter: 3, nil))
    #expect(lane.pausedUntil == 0)
    // A third, sent after slowing down, refused too: everyone waits the 3 s.
    let third = try admit(&lane, 0.2)
    lane.finish(ticket: third.ticket, sentAt: 0.2, now: 0.3, .limited(retryAfter: 3, nil))
    #expect(lane.pausedUntil == 3.3)
    let later = try admit(&lane, 0.4)
    #expect(later.at == 3.3)
    #expect(lane.depart(now: 0.4) == 3.3)
    #expect(lane.depart(now: 3.3) == nil)
  }

  @Test func headersSetThePace() throws {
    var lane = RateLane(ceiling: 8, initialWindow: 4)
    let t = try admit(&lane, 0)
    // A bucket of 5 with 3 left, whole again in 100 ms: it refills one each 50 ms.
    let headers = RateHeaders(limit: 5, remaining: 3, reset: 0.1, refills: true)
    lane.finish(ticket: t.ticket, sentAt: 0, now: 0.05, .accepted(headers))
    #expect(lane.interval == 0.05)
    let a = try admit(&lane, 0.05)
    let b = try admit(&lane, 0.05)
    #expect(a.at == 0.05)
    #expect(abs(b.at - 0.1) < 1e-9)
    // None left: the next waits for the next token.
    let c = try admit(&lane, 0.2)
    lane.finish(
      ticket: c.ticket, sentAt: 0.2, now: 0.2,
      .accepted(RateHeaders(limit: 5, remaining: 0, reset: 0.25, refills: true)))
    let d = try admit(&lane, 0.2)
    #expect(abs(d.at - 0.25) < 1e-9)
    // A fixed window's remaining requests are spread over its reset.
    var window = RateLane(ceiling: 8, initialWindow: 4)
    let w = try admit(&window, 0)
    window.finish(ticket: w.ticket, sentAt: 0, now: 0, .accepted(RateHeaders(limit: 100, remaining: 10, reset: 5)))
    #expect(window.interval == 0.5)
  }

  @Test func headersAreParsed() {
    let openAI = RateHeaders.parse(
      [
        ("x-ratelimit-limit-requests", "60"), ("x-ratelimit-remaining-requests", "59"),
        ("x-ratelimit-reset-requests", "1s"),
      ], now: 0)
    #expect(openAI == RateHeaders(limit: 60, remaining: 59, reset: 1, refills: true))
    #expect(RateHeaders.duration("6m0s") == 360)
    #expect(RateHeaders.duration("120ms") == 0.12)
    #expect(RateHeaders.duration("1h2m3.5s") == 3723.5)
    #expect(RateHeaders.duration("soon") == nil)
    #expect(RateHeaders.duration("5x") == nil)
    // OpenRouter: the window's end in epoch milliseconds.
    let openRouter = RateHeaders.parse(
      [("X-RateLimit-Limit", "20"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "1700000010000")],
      now: 1_700_000_000)
    #expect(openRouter == RateHeaders(limit: 20, remaining: 0, reset: 10, refills: false))
    #expect(RateHeaders.parse([("content-type", "application/json")], now: 0) == nil)
  }

  /// A token bucket of 20 a second (burst 5) simulated in virtual time, answering in 50 ms and
  /// refusing beyond its rate with or without headers, against 16 workers: the lane learns the
  /// rate, refuses under 5% of its requests and finishes within 5% of the ideal 20 s.
  @Test(arguments: [false, true]) func aSimulatedBucketIsFollowed(headers: Bool) throws {
    let rate = 20.0
    let burst = 5.0
    var tokens = burst
    var last = 0.0
    func take(_ now: Double) -> (Bool, RateHeaders?) {
      tokens = min(burst, tokens + (now - last) * rate)
      last = now
      let ok = tokens >= 1
      if ok { tokens -= 1 }
      let h = RateHeaders(
        limit: 5, remaining: Int(tokens.rounded(.down)), reset: ((burst - tokens) / rate * 1000).rounded(.up) / 1000,
        refills: true)
      return (ok, headers ? h : nil)
    }
    var lane = RateLane(ceiling: 16)
    // Events: a worker ready to ask (at a time), or a request that the server answers.
    enum Event {
      case ask(worker: Int), depart(worker: Int, ticket: UInt64), answer(
        worker: Int, ticket: UInt64, sent: Double, ok: Bool, h: RateHeaders?)
    }
    var queue: [(time: Double, seq: Int, event: Event)] = []
    var seq = 0
    func push(_ t: Double, _ e: Event) {
      seq += 1
      queue.append((t, seq, e))
    }
    var remaining = 400
    var done = 0
    var waiting: [Int] = []
    for w in 0..<16 { push(0, .ask(worker: w)) }
    var now = 0.0
    var sent = 0
    var refused = 0
    while let i = queue.indices.min(by: { (queue[$0].time, queue[$0].seq) < (queue[$1].time, queue[$1].seq) }) {
      let (t, _, event) = queue.remove(at: i)
      now = t
      switch event {
      case .ask(let w):
        guard let admitted = lane.admit(now: now) else {
          waiting.append(w)
          continue
        }
        push(admitted.at, .depart(worker: w, ticket: admitted.ticket))
      case .depart(let w, let ticket):
        if let later = lane.depart(now: now) {
          push(later, .depart(worker: w, ticket: ticket))
          continue
        }
        sent += 1
        let (ok, h) = take(now)
        push(now + (ok ? 0.05 : 0.001), .answer(worker: w, ticket: ticket, sent: now, ok: ok, h: h))
      case .answer(let w, let ticket, let sentAt, let ok, let h):
        if ok {
          lane.finish(ticket: ticket, sentAt: sentAt, now: now, .accepted(h))
          done += 1
          remaining -= 1
          if remaining > 0 { push(now, .ask(worker: w)) }
        } else {
          refused += 1
          let wait = lane.finish(ticket: ticket, sentAt: sentAt, now: now, .limited(retryAfter: headers ? nil : 1, h))
          push(now + (wait ?? 1), .ask(worker: w))
        }
        for waiter in waiting { push(now, .ask(worker: waiter)) }
        waiting.removeAll()
      }
      if done == 400 { break }
    }
    #expect(done == 400)
    #expect(now <= 400 / rate * 1.05, "finished at \(now) s")
    #expect(Double(refused) < Double(sent) * 0.05, "\(refused) refusals of \(sent)")
  }
}

/// A slot and its time, or the test fails.
func admit(_ lane: inout RateLane, _ now: Double, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (
  ticket: UInt64, at: Double
) {
  try #require(lane.admit(now: now) as (ticket: UInt64, at: Double)?, sourceLocation: sourceLocation)
}

/// A clock the test moves: sleeping advances it (no real time passes).
final class VirtualClock: RateClock {
  let time = Mutex(0.0)
  /// What the tests note in order, beside the time.
  let order = Mutex<[Int]>([])
  func now() -> Double { time.withLock { $0 } }
  func sleep(_ seconds: Double) async -> Bool {
    time.withLock { $0 += max(0, seconds) }
    return !Task.isCancelled
  }
}

@Suite struct RateGovernorTests {
  @Test func waitersTakeFreedSlotsInOrder() async throws {
    let governor = RateGovernor(ceiling: 1, clock: VirtualClock())
    let first = try #require(await governor.acquire(lane: "a"))
    let order = VirtualClock()
    let tasks = (1...3).map { n in
      Task {
        // Queued in this order (each starts after the previous is waiting).
        let t = await governor.acquire(lane: "a")
        order.order.withLock { $0.append(n) }
        if let t { governor.finish(t, .accepted(nil)) }
      }
    }
    try await Task.sleep(for: .milliseconds(50))
    #expect(order.order.withLock { $0 }.isEmpty)
    governor.finish(first, .accepted(nil))
    for t in tasks { await t.value }
    #expect(order.order.withLock { $0 }.sorted() == [1, 2, 3])
    #expect(governor.stats.sent == 4)
    // Another provider has a lane of its own.
    #expect(await governor.acquire(lane: "b") != nil)
  }

  @Test func aCancelledWaiterLeavesTheQueue() async throws {
    let governor = RateGovernor(ceiling: 1, clock: VirtualClock())
    let held = try #require(await governor.acquire(lane: "a"))
    let waiter = Task { await governor.acquire(lane: "a") }
    try await Task.sleep(for: .milliseconds(50))
    waiter.cancel()
    #expect(await waiter.value == nil)
    governor.finish(held, .accepted(nil))
    // The slot is free again: the cancelled waiter did not take it.
    #expect(await governor.acquire(lane: "a") != nil)
  }

  @Test func lanesAreProvidersNotKeys() {
    #expect(
      RateGovernor.lane(url: "https://openrouter.ai/api/v1/chat/completions", key: nil) == "https://openrouter.ai")
    let a = RateGovernor.lane(url: "http://127.0.0.1:8080/v1/x", key: "sk-one")
    #expect(a.hasPrefix("http://127.0.0.1:8080#"))
    #expect(!a.contains("sk-one"))
    #expect(a != RateGovernor.lane(url: "http://127.0.0.1:8080/v1/x", key: "sk-two"))
  }
}

/// The client with its governor against the loopback server.
@Suite struct RateLimitedClientTests {
  func client(retries: Int, adaptive: Bool) -> ChatClient {
    var policy = RetryPolicy(retries: retries)
    policy.baseDelay = 0.01
    return ChatClient(
      transport: try! CurlTransport(), retry: policy, timeout: 5, environment: [:],
      governor: RateGovernor(ceiling: 4, adaptive: adaptive))
  }

  func request(_ server: LoopbackServer) -> ChatRequest {
    let provider = Provider(name: "test", baseURL: server.baseURL, apiKeyEnv: nil, headers: [], model: nil)
    return ChatRequest(
      provider: provider, model: "m", messages: [["role": "user", "content": "hi"]], params: JSONObject())
  }

  /// Three 429s, then an answer, with no retries left: the waits are not retries.
  static let thriceRefused: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { _, attempt in
    attempt <= 3
      ? .json(["error": ["message": "slow down", "code": 429]], status: 429, headers: [("Retry-After", "0.05")])
      : .json(FakeOpenAI.completion("at last"))
  }

  @Test func rateLimitWaitsDoNotSpendRetries() async throws {
    let server = try LoopbackServer(handler: Self.thriceRefused)
    defer { server.stop() }
    let c = client(retries: 0, adaptive: true)
    let outcome = await c.call(request(server))
    #expect(try Completion(response: outcome.result.get().decoded.body, latencyMS: 0).content == "at last")
    #expect(outcome.attempts == 4)
    let stats = try #require(c.governor?.stats)
    #expect(stats.sent == 4)
    #expect(stats.limited == 3)
    #expect(stats.waits == 3)
    #expect(stats.waitSeconds >= 0.149)
  }

  @Test func noAdaptSpendsARetryOnEach429() async throws {
    let server = try LoopbackServer(handler: Self.thriceRefused)
    defer { server.stop() }
    let c = client(retries: 1, adaptive: false)
    let outcome = await c.call(request(server))
    #expect(throws: CallError.self) { try outcome.result.get() }
    #expect(outcome.attempts == 2)
    #expect(server.requests.count == 2)
    #expect(c.governor?.stats.limited == 2)
  }

  @Test func anInBodyRateLimitIsARefusal() async throws {
    let server = try LoopbackServer { _, attempt in
      attempt == 1
        ? .json(["error": ["message": "Rate limit exceeded", "code": 429]])
        : .json(FakeOpenAI.completion("ok"))
    }
    defer { server.stop() }
    let c = client(retries: 0, adaptive: true)
    let clock = ContinuousClock()
    let start = clock.now
    let outcome = await c.call(request(server))
    #expect(throws: Never.self) { try outcome.result.get() }
    #expect(c.governor?.stats.limited == 1)
    // No Retry-After: it waited a pace interval, or a second without one.
    #expect(clock.now - start >= .milliseconds(400))
  }

  @Test func aWaitPastTheCallDeadlineGivesUp() async throws {
    let server = try LoopbackServer { _, _ in
      .json(["error": ["message": "slow down"]], status: 429, headers: [("Retry-After", "30")])
    }
    defer { server.stop() }
    var c = client(retries: 3, adaptive: true)
    c.limits.callDeadline = 2
    let outcome = await c.call(request(server))
    let error = try #require(outcome.result.failureValue)
    #expect(error.message.contains("for the rate limit does not fit in the call_deadline of 2 s"), "\(error.message)")
    #expect(server.requests.count == 1)
  }
}

extension Result {
  var failureValue: Failure? {
    if case .failure(let e) = self { return e }
    return nil
  }
}
