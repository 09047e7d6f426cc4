import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

/// Answers from a script, one per request in arrival order, then the last one again.
func scripted(_ answers: [String]) -> @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply {
  let next = Mutex(0)
  return { _, _ in
    let i = next.withLock { n in
      defer { n += 1 }
      return n
    }
    return .json(FakeOpenAI.completion(answers[min(i, answers.count - 1)]))
  }
}

@Suite struct PassRateStatisticsTests {
  @Test func normalQuantileMatchesKnownValues() {
    #expect(abs(PassRateStatistics.normalQuantile(0.975) - 1.959964) < 1e-6)
    #expect(abs(PassRateStatistics.normalQuantile(0.5)) < 1e-12)
    #expect(abs(PassRateStatistics.normalQuantile(0.05) + 1.644854) < 1e-6)
    #expect(abs(PassRateStatistics.normalQuantile(0.001) + 3.090232) < 1e-6)
  }

  @Test func wilsonBoundsAgainstKnownValues() {
    let w = PassRateStatistics.wilson(passes: 8, runs: 10, confidence: 0.95)
    #expect((w.lower * 1000).rounded() / 1000 == 0.490)
    #expect((w.upper * 1000).rounded() / 1000 == 0.943)
    let all = PassRateStatistics.wilson(passes: 20, runs: 20, confidence: 0.95)
    #expect((all.lower * 1000).rounded() / 1000 == 0.839)
    #expect(all.upper == 1)
    let none = PassRateStatistics.wilson(passes: 0, runs: 5, confidence: 0.9)
    #expect(none.lower == 0)
  }

  @Test func sprtDecidesClearCasesEarly() {
    let t = PassRateStatistics.SPRT(rate: 0.5)
    // Every sample passes: a pass after a handful, not after the maximum.
    let firstPass = (1...50).first { t.decide(passes: $0, runs: $0) == .pass }
    // ln(19) / ln(0.6 / 0.4) = 7.26: the eighth pass decides.
    #expect(firstPass == 8)
    let firstFail = (1...50).first { t.decide(passes: 0, runs: $0) == .fail }
    #expect(firstFail == 8)
    // Half and half stays undecided.
    #expect(t.decide(passes: 5, runs: 10) == .undecided)
  }
}

@Suite struct RepeatGateTests {
  static let repeated = """
    tests:
      - name: coin
        prompt: flip
        repeat: 3
        min_pass_rate: 0.6
        assert: [{contains: heads}]
    """

  @Test func oneBadRepetitionOfThreeIsToleratedShardedOrNot() async throws {
    let p = try Project(suites: ["s": Self.repeated], handler: scripted(["heads", "tails", "heads"]))
    #expect(await p.run(["--mode", "record", "-j", "1"]).status == 0)
    let full = await p.run(["--mode", "replay", "--json", "full.json"])
    #expect(full.status == 0, "\(full.stdout)")
    #expect(full.stdout.contains("2 passed, 0 failed, 1 tolerated, 0 errored, 0 skipped"))
    for n in 2...4 {
      var files: [String] = []
      for k in 1...n {
        let r = await p.run(["--mode", "replay", "--shard", "\(k)/\(n)", "--json", "s\(k).json", "--quiet"])
        #expect(r.status == 0, "shard \(k)/\(n): \(r.stdout)")
        files.append("s\(k).json")
      }
      let m = await CLI.run(["merge"] + files + ["--json", "m.json"], in: p.dir.url)
      #expect(m.status == 0, "\(m.stdout)\(m.stderr)")
    }
    let report = try JSON.parse(p.dir.read("full.json"))
    let test = report["tests"]?.arrayValue?.first
    #expect(test?["passes"] == 2)
    #expect(test?["runs"] == 3)
    #expect(test?["flaky"] == true)
    #expect(test?["pass_at_k"] == true)
    #expect(test?["pass_all_k"] == false)
    #expect(full.stdout.contains("flaky (mixed results over repetitions):\n  s/coin: 2/3 passed (67%), 95% interval"))
  }

  @Test func confidenceGatesOnTheLowerBound() async throws {
    // 8 of 10 pass: the rate 0.8 meets 0.5, but the 95% lower bound (0.49) does not.
    let suite = """
      tests:
        - name: c
          prompt: q
          repeat: 10
          min_pass_rate: {rate: 0.5, confidence: 0.95}
          assert: [{contains: yes}]
      """
    let answers = ["yes", "yes", "no", "yes", "yes", "yes", "no", "yes", "yes", "yes"]
    let p = try Project(suites: ["s": suite], handler: scripted(answers))
    let r = await p.run(["--mode", "record", "-j", "1", "--json", "r.json"])
    #expect(r.status == 1, "\(r.stdout)")
    let test = try JSON.parse(p.dir.read("r.json"))["tests"]?.arrayValue?.first
    #expect(test?["met"] == false)
    #expect(test?["gate"] == "wilson_lower_bound")
    #expect(
      r.stdout.contains("s/c: 8/10 passed (80%), 95% interval 0.49–0.94; min_pass_rate 0.5 (lower bound): not met"))
  }

  @Test func adaptiveRepeatsStopEarlyAndReplayToTheSameVerdict() async throws {
    let suite = """
      tests:
        - name: steady
          prompt: q
          repeat: {min: 3, max: 30}
          min_pass_rate: 0.5
          assert: [{contains: yes}]
      """
    let p = try Project(suites: ["s": suite], handler: scripted(["yes"]))
    let recorded = await p.run(["--mode", "record", "--json", "rec.json"])
    #expect(recorded.status == 0, "\(recorded.stdout)")
    let cassettes = try FileManager.default.contentsOfDirectory(
      atPath: p.dir.url.appendingPathComponent("expectations/cassettes/s").path)
    #expect(cassettes.count == 8, "\(cassettes.sorted())")
    #expect(p.server.requests.count == 8)
    p.server.stop()
    let replayed = await p.run(["--mode", "replay", "--json", "rep.json"])
    #expect(replayed.status == 0, "\(replayed.stdout)")
    for file in ["rec.json", "rep.json"] {
      let report = try JSON.parse(p.dir.read(file))
      let test = report["tests"]?.arrayValue?.first
      #expect(test?["runs"] == 8)
      #expect(test?["planned"] == 30)
      #expect(test?["sprt"] == "pass")
      #expect(report["summary"]?["skipped"] == 22)
      let ninth = report["cases"]?.arrayValue?[8]
      #expect(ninth?["id"] == "s/steady#9")
      #expect(ninth?["error"] == "not needed: the SPRT decided pass after 8 samples")
    }
  }
}

@Suite struct EmptyAndOnlyGateTests {
  @Test func aFilterThatMatchesNothingIsAnError() async throws {
    let p = try Project(suites: ["s": "tests:\n  - {name: a, prompt: x}\n"], handler: echo)
    let r = await p.run(["--mode", "live", "--filter", "nope", "--tag", "smoke"])
    #expect(r.status == 2)
    #expect(
      r.stderr
        == "error: no case matched --filter nope and --tag smoke; nothing was run (pass --allow-empty if an empty run is expected)\n"
    )
    #expect(await p.run(["--mode", "live", "--filter", "nope", "--allow-empty"]).status == 0)
  }

  @Test func onlyIsRefusedWhenCIIsSet() async throws {
    let suite = "tests:\n  - {name: a, prompt: x}\n  - name: b\n    prompt: y\n    only: true\n"
    let p = try Project(suites: ["s": suite], handler: echo)
    #expect(await p.run(["--mode", "record"]).status == 0)
    let ci = await p.run(["--mode", "replay"], env: ["CI": "true"])
    #expect(ci.status == 2)
    #expect(
      ci.stderr.hasPrefix("prompts/s.yaml:3:5: error: 'only: true' narrows the run to this test while CI is set\n"))
    let allowed = await p.run(["--mode", "replay", "--allow-only"], env: ["CI": "true"])
    #expect(allowed.status == 0)
    #expect(allowed.stdout.contains("1 passed"))
  }

  @Test func errorsAreNeverExcusedByTheMinimumPassRate() async throws {
    let suite = "tests:\n" + (0..<10).map { "  - {name: t\($0), prompt: p\($0)}\n" }.joined()
    let p = try Project(suites: ["s": suite], handler: echo)
    _ = await p.run(["--mode", "record"])
    try FileManager.default.removeItem(at: p.dir.url.appendingPathComponent("expectations/cassettes/s/t3.yaml"))
    let r = await p.run(["--mode", "replay", "--min-pass-rate", "0.5"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "pass rate 90% (9 of 10 cases that ran) meets --min-pass-rate 0.5; 1 errored case count as not passed and are never excused"
      ))
  }
}

@Suite struct MergeShardSetTests {
  @Test func mergeRefusesMissingDoubledAndForeignShards() async throws {
    let suite = "tests:\n" + (0..<12).map { "  - {name: t\($0), prompt: p\($0)}\n" }.joined()
    let p = try Project(suites: ["s": suite], handler: echo)
    _ = await p.run(["--mode", "record"])
    for k in 1...3 { _ = await p.run(["--mode", "replay", "--shard", "\(k)/3", "--json", "s\(k).json", "--quiet"]) }
    let ok = await CLI.run(["merge", "s2.json", "s1.json", "s3.json"], in: p.dir.url)
    #expect(ok.status == 0, "\(ok.stderr)")
    let missing = await CLI.run(["merge", "s1.json", "s3.json"], in: p.dir.url)
    #expect(missing.status == 3)
    #expect(missing.stderr == "error: shard 2/3 is missing\n")
    let doubled = await CLI.run(["merge", "s1.json", "s2.json", "s3.json", "s3.json"], in: p.dir.url)
    #expect(doubled.status == 3)
    #expect(doubled.stderr == "error: shard 3/3 is given 2 times (s3.json, s3.json)\n")
    // A shard of another plan (a filtered run) is foreign.
    _ = await p.run(["--mode", "replay", "--shard", "2/3", "--filter", "t1", "--json", "other.json", "--quiet"])
    let foreign = await CLI.run(["merge", "s1.json", "other.json", "s3.json"], in: p.dir.url)
    #expect(foreign.status == 3)
    #expect(foreign.stderr.hasPrefix("error: other.json is from another plan than s1.json"))
  }

  /// For N in 2...5: sharded and merged gives the unsharded statuses, counts and exit status,
  /// on a suite with repeats, a pass-rate group and a matrix.
  @Test func shardedAndMergedEqualsUnsharded() async throws {
    let suite = """
      tests:
        - name: coin
          prompt: flip
          repeat: 4
          min_pass_rate: 0.5
          assert: [{contains: heads}]
        - name: strict
          prompt: flip again
          repeat: 3
          assert: [{contains: heads}]
        - name: greet
          prompt: "hello {{who}} {{tone}}"
          matrix: {who: [a, b, c], tone: [x, y]}
          assert: [{contains: "hello"}]
      """
    let answers = ["heads", "tails", "heads", "tails", "heads", "heads", "tails"] + Array(repeating: "hello", count: 6)
    let p = try Project(suites: ["s": suite], handler: scripted(answers))
    _ = await p.run(["--mode", "record", "-j", "1"])
    let full = await p.run(["--mode", "replay", "--json", "full.json"])
    #expect(full.status == 1)
    let expected = try ShardingTests.withoutTimings(p.dir.read("full.json"))
    for n in 2...5 {
      var files: [String] = []
      for k in 1...n {
        _ = await p.run(["--mode", "replay", "--shard", "\(k)/\(n)", "--json", "n\(n)-\(k).json", "--quiet"])
        files.append("n\(n)-\(k).json")
      }
      let m = await CLI.run(["merge"] + files + ["--json", "merged-\(n).json"], in: p.dir.url)
      #expect(m.status == full.status, "N=\(n): \(m.stdout)\(m.stderr)")
      #expect(try ShardingTests.withoutTimings(p.dir.read("merged-\(n).json")) == expected, "N=\(n)")
    }
  }
}

@Suite struct RepeatGoldenTests {
  static let suite = """
    tests:
      - name: story
        prompt: tell
        repeat: 3
        min_pass_rate: 0.6
        golden: true
    """

  @Test func oneGoldenPerTestAndNoPendingFileForATolerableFailure() async throws {
    let p = try Project(suites: ["g": Self.suite], handler: scripted(["once", "once", "twice"]))
    try p.dir.write("expectations/golden/g/story.txt", "once")
    let r = await p.run(["--mode", "record", "-j", "1"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(!p.dir.exists("expectations/golden/g/story.txt.new"))
    #expect(!p.dir.exists("expectations/golden/g/story--r1.txt"))
  }

  @Test func aFailingTestWritesExactlyOnePendingFile() async throws {
    let p = try Project(suites: ["g": Self.suite], handler: scripted(["one", "two", "three"]))
    try p.dir.write("expectations/golden/g/story.txt", "zero")
    let r = await p.run(["--mode", "record", "-j", "1"])
    #expect(r.status == 1)
    let files = try FileManager.default.contentsOfDirectory(
      atPath: p.dir.url.appendingPathComponent("expectations/golden/g").path
    ).sorted()
    #expect(files == ["story.txt", "story.txt.new"])
    #expect(try p.dir.read("expectations/golden/g/story.txt.new") == "one\n")
    #expect(r.stdout.contains("note: wrote expectations/golden/g/story.txt.new from #1"))
  }

  @Test func updateGoldensWritesTheOneGolden() async throws {
    let p = try Project(suites: ["g": Self.suite], handler: scripted(["same"]))
    let r = await p.run(["--mode", "record", "--update-goldens"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try p.dir.read("expectations/golden/g/story.txt") == "same\n")
    #expect(await p.run(["--mode", "replay"]).status == 0)
  }
}

@Suite struct FlakyListingTests {
  @Test func htmlListsFlakyTestsApartFromFailures() async throws {
    let p = try Project(suites: ["s": RepeatGateTests.repeated], handler: scripted(["heads", "tails", "heads"]))
    let r = await p.run(["--mode", "record", "-j", "1", "--html", "r.html"])
    #expect(r.status == 0)
    let html = try p.dir.read("r.html")
    #expect(
      html.contains(
        "<h2>Flaky tests <small>(mixed results over repetitions)</small></h2><ul class=\"flaky\"><li>s/coin: 2/3 passed (67%), 95% interval 0.21–0.94; min_pass_rate 0.6: met</li></ul>"
      ))
  }
}
