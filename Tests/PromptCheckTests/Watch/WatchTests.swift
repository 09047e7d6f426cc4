import Foundation
import Testing

@testable import PromptCheck
@testable import PromptCheckCore

/// `watch` over a copy of the bundled project (replayed): each kind of file a run reads, edited
/// in turn, re-runs only the cases that read it; a YAML error and a failing case are survived.
@Suite(.serialized) struct WatchTests {
  /// The rounds of a watch, as they come.
  final class Rounds: Sendable {
    let stream: AsyncStream<WatchCommandCore.Cycle>
    let continuation: AsyncStream<WatchCommandCore.Cycle>.Continuation
    init() { (stream, continuation) = AsyncStream.makeStream() }
  }

  static func copyOfTheExample() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    for item in ["promptcheck.yaml", "prompts", "expectations"] {
      try FileManager.default.copyItem(
        at: TestPaths.packageRoot.appendingPathComponent(item), to: dir.url.appendingPathComponent(item))
    }
    return dir
  }

  @Test(arguments: [false, true]) func eachWatchedFileReRunsOnlyItsCases(polling: Bool) async throws {
    let dir = try Self.copyOfTheExample()
    let rounds = Rounds()
    let output = CapturedText()
    let ctx = CommandContext(
      environment: ["CI": ""], directory: dir.url.path, stdoutIsTTY: false, out: { output.append($0) },
      err: { output.append($0) })
    var o = WatchCommandCore.Options()
    o.forcePolling = polling
    let watch = Task { await WatchCommandCore.watch(o, ctx) { rounds.continuation.yield($0) } }
    // Every round within 240 s in all (a loaded CI machine took 10 s for the first run alone), or the
    // test fails (and the watch is stopped) rather than hang.
    let timer = Task {
      try await Task.sleep(for: .seconds(240))
      rounds.continuation.finish()
    }
    defer { timer.cancel() }
    var iterator = rounds.stream.makeAsyncIterator()
    func next(_ location: Testing.SourceLocation = #_sourceLocation) async throws -> WatchCommandCore.Cycle {
      guard let round = await iterator.next() else {
        watch.cancel()
        Issue.record("no round came: \(output.value)", sourceLocation: location)
        throw CancellationError()
      }
      return round
    }
    let first = try await next()
    #expect(first.ran.count == 33)
    #expect(first.status == .ok)
    // Give the watcher a moment to settle on the files the first run wrote.
    try await Task.sleep(for: .milliseconds(400))

    // A file a prompt includes ({{file:…}}): its one case, stale now.
    try dir.write("prompts/data/refund-policy.txt", "Refunds within 60 days.\n")
    var round = try await next()
    #expect(round.ran == ["support/answers/refund-policy-from-a-file"], "\(round.changedFiles)")
    #expect(round.status == .errored)
    #expect(
      output.value.contains(
        "ERROR support/answers/refund-policy-from-a-file (was passed): cassette expectations/cassettes/support/answers/refund-policy-from-a-file.yaml is stale"
      ))

    // A golden: its one case fails.
    try dir.write("expectations/golden/matrix/greets-the-customer--name-alice--tone-cheerful.txt", "Hello.\n")
    round = try await next()
    #expect(round.ran == ["matrix/greets-the-customer[name=Alice,tone=cheerful]"], "\(round.changedFiles)")
    #expect(round.status == .failed)

    // A cassette: its one case.
    let cassette = "expectations/cassettes/tools/asks-for-the-weather.yaml"
    try dir.write(cassette, try dir.read(cassette) + "# touched\n")
    round = try await next()
    #expect(round.ran == ["tools/asks-for-the-weather"], "\(round.changedFiles)")

    // A dataset row: the row's two cases (two prompt versions).
    let csv = try dir.read("prompts/comparison/capitals.csv")
    try dir.write("prompts/comparison/capitals.csv", csv.replacingOccurrences(of: "Italy", with: "Spain"))
    round = try await next()
    #expect(round.ran.count == 2, "\(round.ran)")
    #expect(round.ran.allSatisfy { $0.hasPrefix("comparison/names-the-capital[row=capitals.csv:") })

    // A prompt version's file: the three cases of that version.
    try dir.write("prompts/comparison/terse.txt", try dir.read("prompts/comparison/terse.txt") + "Be brief.\n")
    round = try await next()
    #expect(round.ran.count == 3, "\(round.ran)")
    #expect(round.ran.allSatisfy { $0.hasSuffix("prompt=terse]") }, "\(round.ran)")

    // The config: a header on the local provider, which every case calls (or grades with).
    let config = try dir.read("promptcheck.yaml")
    try dir.write(
      "promptcheck.yaml",
      config.replacingOccurrences(
        of: "    model: smollm2-135m-instruct\n  local-embeddings:",
        with: "    model: smollm2-135m-instruct\n    headers: {X-Watch: one}\n  local-embeddings:"))
    round = try await next()
    #expect(round.ran.count >= 30, "\(round.ran.count) cases: \(round.changedFiles)")
    try dir.write("promptcheck.yaml", config)
    round = try await next()
    #expect(round.ran.count >= 30)

    // A suite: only the test edited.
    let suite = try dir.read("prompts/judged.yaml")
    try dir.write(
      "prompts/judged.yaml",
      suite.replacingOccurrences(of: "wc -c | awk '{ exit ($1 < 4000 ? 0 : 1) }'", with: "sh scripts/short.sh"))
    round = try await next()
    #expect(round.ran == ["judged/colours-by-weight"], "\(round.ran)")
    // The script the judge runs: the case that names it.
    try dir.write("scripts/short.sh", "exit 0\n")
    round = try await next()
    #expect(round.ran == ["judged/colours-by-weight"], "\(round.changedFiles)")

    // A YAML error: said, and the watch goes on.
    try dir.write("prompts/broken.yaml", "tests:\n  - name: x\n    prompt: [unclosed\n")
    round = try await next()
    #expect(round.invalid)
    #expect(output.value.contains("prompts/broken.yaml:3:13: error:"), "\(output.value)")
    try FileManager.default.removeItem(at: dir.url.appendingPathComponent("prompts/broken.yaml"))
    round = try await next()
    #expect(!round.invalid)
    #expect(round.ran.isEmpty)

    watch.cancel()
    #expect(await watch.value == .cancelled)
  }

  @Test func ctrlCEndsTheWatchWith130() async throws {
    let dir = try Self.copyOfTheExample()
    // Only PATH from the test's environment.
    let p = try Background(
      [BinaryRunner.binary.path, "watch"], in: dir.url,
      unsetting: Set(ProcessInfo.processInfo.environment.keys).subtracting(["PATH"]))
    try await Task.sleep(for: .seconds(2))
    p.signal(SIGINT)
    let status = await p.finished(within: 30)
    #expect(status == 130)
    let said = p.output
    #expect(said.contains("watching "), "\(said)")
    #expect(said.contains("32 passed, 0 failed, 0 errored, 1 skipped"), "\(said)")
  }
}
