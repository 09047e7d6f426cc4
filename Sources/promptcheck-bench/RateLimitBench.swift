import Foundation
import LoopbackServer
import PromptCheckCore
import PromptCheckExecute
import Synchronization

/// A provider's request limit as a token bucket: `rate` tokens a second, at most `burst` kept.
final class TokenBucket: Sendable {
  enum Signals: String, CaseIterable {
    /// `Retry-After` on a 429 and the `x-ratelimit-*` headers on every answer.
    case both
    /// Only `Retry-After: 1` on a 429.
    case retryAfter = "retry-after"
    /// Only the `x-ratelimit-*` headers (OpenAI's), on every answer.
    case headers
  }

  struct State {
    var tokens: Double
    var last: Double
    var accepted = 0
    var refused = 0
  }

  let rate: Double
  let burst: Double
  let signals: Signals
  let clock = MonotonicRateClock()
  let state: Mutex<State>

  init(rate: Double, burst: Double, signals: Signals) {
    self.rate = rate
    self.burst = burst
    self.signals = signals
    state = Mutex(State(tokens: burst, last: 0))
  }

  /// Takes a token if there is one; the headers to send either way.
  func take() -> (ok: Bool, headers: [(String, String)]) {
    let now = clock.now()
    return state.withLock { s in
      s.tokens = min(burst, s.tokens + (now - s.last) * rate)
      s.last = now
      let ok = s.tokens >= 1
      if ok {
        s.tokens -= 1
        s.accepted += 1
      } else {
        s.refused += 1
      }
      var headers: [(String, String)] = []
      if signals != .retryAfter {
        let untilWhole = Int(((burst - s.tokens) / rate * 1000).rounded(.up))
        headers += [
          ("x-ratelimit-limit-requests", "\(Int(burst))"),
          ("x-ratelimit-remaining-requests", "\(Int(s.tokens.rounded(.down)))"),
          ("x-ratelimit-reset-requests", "\(untilWhole)ms"),
        ]
      }
      if !ok && signals != .headers { headers.append(("Retry-After", "1")) }
      return (ok, headers)
    }
  }

  var counts: (accepted: Int, refused: Int) { state.withLock { ($0.accepted, $0.refused) } }
}

/// Live runs against a provider that allows `rate` requests a second (burst 5) and answers 429
/// beyond it: `--jobs` 4, 16 and 64, for each way of saying the limit, and once with `--no-adapt`.
/// The target: every run within 5% of the ideal (cases ÷ rate), no errored case, 429s under 5% of
/// the requests sent.
func benchRateLimit(cases: Int, rate: Double, latencyMS: Int) throws {
  let ideal = Double(cases) / rate
  print(
    "rate-limit: \(cases) cases at \(NumberText.format(rate)) requests/s (burst 5), \(latencyMS) ms per answer,"
      + " retries 8; ideal \(NumberText.format(ideal)) s")
  print("signals      jobs  adapt   wall s   vs ideal  sent  429s  429 %  errored  exit")
  var worst = 0.0
  var allGood = true
  let runs: [(TokenBucket.Signals, Int, Bool)] =
    TokenBucket.Signals.allCases.flatMap { s in [4, 16, 64].map { (s, $0, true) } } + [(.both, 64, false)]
  for (signals, jobs, adapt) in runs {
    let bucket = TokenBucket(rate: rate, burst: 5, signals: signals)
    let latency = Double(latencyMS) / 1000
    let server = try LoopbackServer { request, attempt in
      let (ok, headers) = bucket.take()
      guard ok else {
        return .json(
          ["error": ["message": "Rate limit exceeded: 20 requests per second", "code": 429]], status: 429,
          headers: headers)
      }
      guard case .full(let status, let h, let body) = answerServer(request, attempt) else { return .reset }
      return .delayed(latency, .full(status: status, headers: h + headers, body: body))
    }
    defer { server.stop() }
    let dir = try makeProject(cases: cases, baseURL: server.baseURL, assertions: "    - contains: Result\n")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let run = runPromptcheck(
      ["run", "--mode", "live", "-j", "\(jobs)", "--retries", "8", "--quiet"] + (adapt ? [] : ["--no-adapt"]), in: dir)
    let report = try? JSON.parse(
      bytes: Array(Data(contentsOf: URL(fileURLWithPath: dir + "/.promptcheck/report.json"))))
    let errored = report?["summary"]?["errored"]?.numberValue.map { Int($0) } ?? -1
    let (accepted, refused) = bucket.counts
    let sent = accepted + refused
    let over = run.wall / ideal - 1
    let share = Double(refused) / Double(max(sent, 1))
    if adapt {
      worst = max(worst, over)
      allGood = allGood && over <= 0.05 && errored == 0 && share < 0.05
    }
    print(
      String(
        format: "%@ %5d  %@ %8.2f  %+8.1f%%  %4d  %4d  %4.1f%%  %7d  %4d",
        signals.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0), jobs, adapt ? "yes  " : "no   ", run.wall,
        over * 100, sent, refused, share * 100, errored, run.status))
  }
  print(
    "rate-limit: adaptive runs \(allGood ? "meet" : "miss") the target (within 5% of ideal, 0 errored, 429s < 5%);"
      + String(format: " the slowest %+.1f%%", worst * 100))
}
