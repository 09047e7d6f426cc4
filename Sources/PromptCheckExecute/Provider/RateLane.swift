import Foundation
import PromptCheckCore

/// What a provider's answer says of its rate limit: the `x-ratelimit-*` headers of OpenAI
/// (`x-ratelimit-limit-requests`, `-remaining-requests`, `-reset-requests` as a duration until the
/// limit is whole again, a token bucket) or of OpenRouter and others (`x-ratelimit-limit`,
/// `-remaining`, `-reset` as a time the window ends, in epoch milliseconds or seconds, or seconds
/// from now).
package struct RateHeaders: Sendable, Equatable {
  package var limit: Int?
  package var remaining: Int?
  /// Seconds from now until the limit is whole again.
  package var reset: Double?
  /// The reset refills a bucket gradually (OpenAI's reading) rather than ending a fixed window.
  package var refills: Bool

  package init(limit: Int? = nil, remaining: Int? = nil, reset: Double? = nil, refills: Bool = false) {
    self.limit = limit
    self.remaining = remaining
    self.reset = reset
    self.refills = refills
  }

  /// The headers of an answer (names lower-cased), or nil when it carries none; `now` is
  /// seconds since 1970, to read an absolute reset.
  package static func parse(_ headers: [(name: String, value: String)], now: Double) -> RateHeaders? {
    func value(_ name: String) -> String? {
      headers.last { $0.name.lowercased() == name }?.value.trimmingCharacters(in: " \t")
    }
    if let remaining = value("x-ratelimit-remaining-requests").flatMap({ Int($0) }) {
      return RateHeaders(
        limit: value("x-ratelimit-limit-requests").flatMap { Int($0) }, remaining: remaining,
        reset: value("x-ratelimit-reset-requests").flatMap(duration), refills: true)
    }
    if let remaining = value("x-ratelimit-remaining").flatMap({ Int($0) }) {
      return RateHeaders(
        limit: value("x-ratelimit-limit").flatMap { Int($0) }, remaining: remaining,
        reset: value("x-ratelimit-reset").flatMap { resetTime($0, now: now) }, refills: false)
    }
    return nil
  }

  /// "1s", "6m0s", "120ms", "1h2m3.5s" or a plain number of seconds.
  package static func duration(_ text: String) -> Double? {
    if let s = Double(text) { return s >= 0 ? s : nil }
    var total = 0.0
    var number = ""
    var rest = Substring(text)
    guard !rest.isEmpty else { return nil }
    while let c = rest.first {
      if c.isNumber || c == "." {
        number.append(c)
        rest = rest.dropFirst()
        continue
      }
      guard let n = Double(number) else { return nil }
      number = ""
      if rest.hasPrefix("ms") {
        total += n / 1000
        rest = rest.dropFirst(2)
      } else if c == "h" || c == "m" || c == "s" {
        total += n * (c == "h" ? 3600 : c == "m" ? 60 : 1)
        rest = rest.dropFirst()
      } else {
        return nil
      }
    }
    return number.isEmpty ? total : nil
  }

  /// A reset written as epoch milliseconds, epoch seconds or seconds from now.
  static func resetTime(_ text: String, now: Double) -> Double? {
    guard let n = Double(text), n >= 0 else { return duration(text) }
    if n > 1e11 { return max(0, n / 1000 - now) }
    if n > 1e9 { return max(0, n - now) }
    return n
  }
}

/// How one answer went, as the rate governor reads it.
package enum RateSignal: Sendable, Equatable {
  /// An answer: whatever its content, the provider took the request.
  case accepted(RateHeaders?)
  /// 429, or an in-body error with code 429: the provider refused for the rate.
  case limited(retryAfter: Double?, RateHeaders?)
  /// 503 (or an in-body 503): the provider is overloaded; the window shrinks, the retry is spent.
  case overloaded
  /// No answer (a connection that failed, a timeout, a cancellation): no sign either way.
  case none
}

/// The concurrency window and pacing of one provider (host and key), as a pure state machine over
/// explicit times: `RateGovernor` owns one per provider behind a lock, and the tests drive it with
/// their own clock.
///
/// - The window grows by one per accepted answer until the first refusal (slow start), then by
///   1/window (additive increase); a refusal halves it once per round trip (the requests sent
///   before the halving do not halve it again), never below what the pace needs.
/// - The pace: the provider's headers when it sends them (a token bucket's rate is
///   (limit − remaining) / reset; a fixed window's remaining requests are spread over its
///   reset), else learnt from refusals: between two refusals the bucket went from empty to
///   empty, so the answers accepted between them over the time between them is its rate.
/// - A refused request waits as `Retry-After` says (or the headers, or one pace interval); the
///   others go on at the pace, one interval apart, not all at the same instant. When more
///   requests are refused in a row than were in flight, the whole lane waits.
package struct RateLane: Sendable {
  package let ceiling: Int
  package private(set) var window: Double
  package private(set) var inFlight = 0
  /// Seconds between two request starts; nil: as fast as the window allows.
  package private(set) var interval: Double?
  /// No request starts before this time.
  package private(set) var pausedUntil = 0.0
  package private(set) var stats = RateLimitStats()

  var nextStart = 0.0
  /// When the last request was sent.
  var lastSent = -Double.infinity
  /// Where the pace is learnt from: the start, or the end of the last pause (time, answers accepted by then).
  var baseline: (time: Double, accepted: Int)?
  var slowStart = true
  /// Requests started so far; a refusal of a request started before the last halving does not halve again.
  var started: UInt64 = 0
  var halvedAt: UInt64 = 0
  var accepted = 0
  /// Refusals that begin a new round: (time, answers accepted by then), the last 30 s of them.
  var refusals: [(time: Double, accepted: Int)] = []
  var refusedInARow = 0
  /// The window when the current run of refusals began.
  var windowAtFirstRefusal = 0.0
  var latency: Double?
  /// The pace the headers gave, which the learnt pace does not override.
  var headerPaced = false
  var headerIntervals: [Double] = []

  package init(ceiling: Int, initialWindow: Int = 1) {
    self.ceiling = max(1, ceiling)
    window = Double(min(max(1, initialWindow), max(1, ceiling)))
  }

  /// A request asking to start: its number and when it may start (a slot is taken), or nil when
  /// the window is full (ask again after a request finishes).
  package mutating func admit(now: Double) -> (ticket: UInt64, at: Double)? {
    guard inFlight < Int(window.rounded(.down)) else { return nil }
    inFlight += 1
    started += 1
    if baseline == nil { baseline = (now, 0) }
    let at = max(now, nextStart, pausedUntil)
    nextStart = at + (interval ?? 0)
    stats.sent += 1
    return (started, at)
  }

  /// A request admitted for `at` wakes: nil when it may go now (it is sent), else the time to wait
  /// for — the pace may have slowed or a pause begun since it was admitted.
  package mutating func depart(now: Double) -> Double? {
    let earliest = max(pausedUntil, lastSent + (interval ?? 0))
    // A millisecond early is on time (sleeps wake a little late or early).
    guard now + 0.001 >= earliest else { return earliest }
    lastSent = max(now, lastSent)
    return nil
  }

  /// A refused request waited this long before asking again (counted whoever decided the wait).
  package mutating func waited(_ seconds: Double) {
    stats.waits += 1
    stats.waitSeconds += seconds
  }

  /// A request sent without asking (`--no-adapt`): counted only.
  package mutating func counted(_ signal: RateSignal) {
    stats.sent += 1
    if case .limited = signal { stats.limited += 1 }
  }

  /// A slot taken by `admit` given back without a request sent (its task was cancelled while waiting).
  package mutating func abandon() {
    inFlight -= 1
    stats.sent -= 1
  }

  /// A request (its ticket, when it was sent) finished: its signal adjusts the window and the pace.
  /// For a refusal, the seconds the refused request waits before it asks again.
  @discardableResult
  package mutating func finish(ticket: UInt64, sentAt: Double, now: Double, _ signal: RateSignal) -> Double? {
    inFlight -= 1
    switch signal {
    case .none:
      return nil
    case .accepted(let headers):
      accepted += 1
      refusedInARow = 0
      let took = max(0, now - sentAt)
      latency = latency.map { $0 * 0.8 + took * 0.2 } ?? took
      if let headers { read(headers, now: now) }
      window = min(Double(ceiling), window + (slowStart ? 1 : 1 / window))
      if let i = interval, !headerPaced {
        // A learnt pace creeps up while answers come and no refusal does (from 5% a second,
        // doubling each quiet second, at most 50%), so a low estimate or a raised limit is found
        // again; a pace measured over two refusals is left alone for 3 s first.
        let quiet = now - (refusals.last?.time ?? baseline?.time ?? now) - (refusals.count >= 2 ? 3 : 1)
        if quiet > 0 { interval = i / (1 + min(0.5, 0.05 * pow(2, quiet)) * i) }
      }
      return nil
    case .overloaded:
      shrink(ticket)
      return nil
    case .limited(let retryAfter, let headers):
      stats.limited += 1
      if refusedInARow == 0 { windowAtFirstRefusal = window }
      refusedInARow += 1
      if let headers { read(headers, now: now) }
      if !headerPaced { learnPace(now: now, newRound: ticket > halvedAt) }
      shrink(ticket)
      var wait = retryAfter ?? headerWait(headers) ?? interval ?? 1
      wait = max(wait, 0)
      if Double(refusedInARow) > max(windowAtFirstRefusal, 1) {
        // Even the requests sent after slowing down were refused: everyone waits as asked, and
        // the pace is learnt afresh after the pause (the bucket refills meanwhile).
        pausedUntil = max(pausedUntil, now + wait)
        refusals.removeAll()
        baseline = (pausedUntil, accepted)
      }
      // The others go on one interval after this refusal, not all at once.
      nextStart = max(nextStart, now + (interval ?? 0))
      return wait
    }
  }

  /// Requests a pace needs in flight: its rate times the answers' latency, and one more.
  var neededForPace: Double {
    guard let interval, let latency, interval > 0 else { return 1 }
    return min(Double(ceiling), (latency / interval).rounded(.up) + 1)
  }

  mutating func shrink(_ ticket: UInt64) {
    slowStart = false
    guard ticket > halvedAt else { return }
    window = max(1, max(window / 2, neededForPace))
    halvedAt = started
  }

  /// The pace from refusals: between the first refusal of the last 30 s and this one, the
  /// provider accepted `n` answers in `t` seconds; before a second refusal, the answers accepted
  /// since the start (or the last pause) over that time (above the rate by the burst, so the
  /// next refusal comes soon and measures it).
  mutating func learnPace(now: Double, newRound: Bool) {
    guard newRound else { return }
    refusals.append((now, accepted))
    refusals.removeAll { now - $0.time > 30 }
    if refusals.count >= 2, let first = refusals.first, now - first.time > 0 {
      // Over few answers, one more than counted: an estimate a little high finds out sooner.
      let n = accepted - first.accepted
      let rate = Double(n + (n < 40 ? 1 : 0)) / (now - first.time)
      interval = 1 / max(rate, 0.01)
    } else if let baseline, now > baseline.time, accepted > baseline.accepted {
      // Half the rate so far (which holds the burst the provider allowed at first).
      interval = 2 * (now - baseline.time) / Double(accepted - baseline.accepted)
    }
  }

  mutating func read(_ h: RateHeaders, now: Double) {
    guard let remaining = h.remaining, let reset = h.reset, reset > 0 else { return }
    if h.refills, let limit = h.limit, limit > remaining {
      // A bucket that is whole again in `reset` seconds refills (limit − remaining) in that time.
      // `remaining` is rounded down, so each reading is at most the true interval: the longest
      // of the last 16 is taken.
      headerIntervals.append(reset / Double(limit - remaining))
      if headerIntervals.count > 16 { headerIntervals.removeFirst() }
      interval = headerIntervals.max()
      headerPaced = true
    } else if !h.refills {
      interval = reset / Double(max(remaining, 1))
      headerPaced = true
    }
    if remaining == 0 { nextStart = max(nextStart, now + (headerWait(h) ?? 0)) }
  }

  /// How long the headers say to wait for the next request: a bucket's next token, a window's end.
  func headerWait(_ h: RateHeaders?) -> Double? {
    guard let h, let reset = h.reset, h.remaining == 0 else { return nil }
    if h.refills, let limit = h.limit, limit > 0 { return reset / Double(limit) }
    return reset
  }

  /// The figures the progress line shows: the window and the pace.
  package var status: RateLimitStats {
    var s = stats
    s.window = Int(window.rounded(.down))
    s.ceiling = ceiling
    s.ratePerSecond = interval.flatMap { $0 > 0 ? 1 / $0 : nil }
    return s
  }
}
