import Foundation
import PromptCheck
import PromptCheckCore
import PromptCheckExecute
import Synchronization

/// `watch`: from saving one suite of a project of `cases` cases (in suites of 100) to the
/// printed result, the median of `rounds` saves (the target: 150 ms at 1,000 cases).
func benchWatch(cases: Int, rounds: Int) async throws {
  let dir = try makeRecordedProject(cases: cases, perSuite: 100)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let (stream, continuation) = AsyncStream<WatchCommandCore.Cycle>.makeStream()
  // When the round's result (its counts line) is printed.
  let printed = Mutex<ContinuousClock.Instant?>(nil)
  let ctx = CommandContext(
    environment: [:], directory: dir, stdoutIsTTY: false,
    out: { text in if text.contains(" passed, ") { printed.withLock { $0 = ContinuousClock.now } } }, err: { _ in })
  let watch = Task { await WatchCommandCore.watch(WatchCommandCore.Options(), ctx) { continuation.yield($0) } }
  var cycles = stream.makeAsyncIterator()
  guard let first = await cycles.next() else { return }
  print(String(format: "watch: %d cases, first run %.3f s", first.ran.count, first.seconds))
  try await Task.sleep(for: .milliseconds(300))
  let suite = dir + "/prompts/bench3.yaml"
  let original = try String(contentsOfFile: suite, encoding: .utf8)
  var times: [Double] = []
  let clock = ContinuousClock()
  for n in 0..<rounds {
    // One test's prompt changes (replay: the case is stale and says so).
    let text = original.replacingOccurrences(of: "Question number 301:", with: "Question number 301 (\(n)):")
    let saved = clock.now
    try text.write(toFile: suite, atomically: true, encoding: .utf8)
    guard let round = await cycles.next() else { break }
    let took = (printed.withLock { $0 } ?? clock.now) - saved
    times.append(Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
    if round.ran.count != 1 { print("watch: round \(n) ran \(round.ran.count) cases, not 1") }
    try await Task.sleep(for: .milliseconds(100))
  }
  watch.cancel()
  _ = await watch.value
  times.sort()
  print(
    String(
      format:
        "watch: save to printed result, one suite of %d cases changed: median %.1f ms (min %.1f, max %.1f; %d saves, 25 ms debounce included); target ≤ 150 ms",
      cases, times[times.count / 2] * 1000, times[0] * 1000, times[times.count - 1] * 1000, times.count))
}

/// `view`: the first page of a `cases`-case report's grid, and the page itself (the target:
/// 200 ms at 10,000 cases, the report read and parsed on the first request).
func benchView(cases: Int) async throws {
  let dir = try makeRecordedProject(cases: cases)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  guard runPromptcheck(["run", "--mode", "replay", "--quiet"], in: dir).status == 0 else {
    print("view: the replay failed")
    return
  }
  let ctx = CommandContext(environment: [:], directory: dir, stdoutIsTTY: false, out: { _ in }, err: { _ in })
  var o = ViewCommandCore.Options()
  o.port = 0
  let started = ContinuousClock.now
  guard let server = ViewCommandCore.start(o, ctx) else { return }
  let load = ContinuousClock.now - started
  defer { server.stop() }
  let transport = try CurlTransport()
  let clock = ContinuousClock()
  func time(_ path: String) async throws -> (Double, Int) {
    let start = clock.now
    let r = try await transport.send(
      HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)\(path)", timeout: 30))
    let d = clock.now - start
    return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, r.body.count)
  }
  let (cold, bytes) = try await time("/api/cases?offset=0&limit=100")
  var warm: [Double] = []
  for _ in 0..<9 { warm.append(try await time("/api/cases?offset=5000&limit=100&q=case").0) }
  warm.sort()
  let (page, _) = try await time("/")
  print(
    String(
      format:
        "view: %d-case report read at start in %.1f ms; the grid's first page %.1f ms (%d bytes), a filtered page %.1f ms median; the page %.1f ms; target ≤ 200 ms",
      cases, Double(load.components.attoseconds) / 1e15 + Double(load.components.seconds) * 1000, cold * 1000, bytes,
      warm[4] * 1000, page * 1000))
}
