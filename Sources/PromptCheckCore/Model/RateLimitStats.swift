/// What the rate governor did in a run (README "Calling the API"): requests sent, refusals
/// (429s), the waits they imposed, and the window and pace it ended with.
package struct RateLimitStats: Sendable, Equatable {
  /// HTTP requests sent to providers (each retry and each ask-again after a 429 counts).
  package var sent = 0
  /// Answers that refused for the rate: HTTP 429, or an in-body error with code 429.
  package var limited = 0
  /// Times a refused request waited before asking again, and the seconds it waited in all.
  package var waits = 0
  package var waitSeconds = 0.0
  /// The concurrency window (of the busiest provider) and its ceiling (`--jobs`).
  package var window = 0
  package var ceiling = 0
  /// The pace requests start at, when one was set (from the headers or learnt from refusals).
  package var ratePerSecond: Double?

  package init() {}

  /// The figures of several providers: counts summed, the window and pace of the busiest.
  package static func combined(_ lanes: [RateLimitStats]) -> RateLimitStats {
    var total = RateLimitStats()
    for l in lanes {
      total.sent += l.sent
      total.limited += l.limited
      total.waits += l.waits
      total.waitSeconds += l.waitSeconds
    }
    if let busiest = lanes.max(by: { $0.sent < $1.sent }) {
      total.window = busiest.window
      total.ceiling = busiest.ceiling
      total.ratePerSecond = busiest.ratePerSecond
    }
    return total
  }

  /// The summary's line: "requests: 412 sent, 12 rate-limited (429), waited 12.0 s; window 4 of 64, paced at 19.8/s".
  package var line: String {
    var s = "requests: \(sent) sent, \(limited) rate-limited (429)"
    if waits > 0 { s += ", waited \(NumberText.format((waitSeconds * 10).rounded() / 10)) s" }
    if ceiling > 0 { s += "; window \(window) of \(ceiling)" }
    if let r = ratePerSecond { s += ", paced at \(NumberText.format((r * 10).rounded() / 10))/s" }
    return s
  }

  /// The progress line's part: "window 4/64, 3 waits".
  package var progressText: String {
    "window \(window)/\(ceiling)" + (waits > 0 ? ", \(waits) wait\(waits == 1 ? "" : "s")" : "")
  }
}
