import Foundation
import LoopbackServer
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

@Suite struct ShardingTests {
  @Test func shardsAreStableDisjointAndCoverEverything() async throws {
    var tests = "tests:\n"
    for i in 0..<1000 {
      tests += "  - {name: case \(i), prompt: \"q\(i)\", assert: [{contains: \"\(i % 7 == 0 ? "never" : "Echo")\"}]}\n"
    }
    let p = try Project(suites: ["big": tests], handler: echo)
    #expect(await p.run(["--mode", "record", "-j", "32", "--quiet"]).status == 1)
    #expect(await p.run(["--mode", "replay", "--quiet", "--json", "full.json", "--junit", "full.xml"]).status == 1)
    var shardIDs: [Set<String>] = []
    for k in 1...4 {
      _ = await p.run(["--mode", "replay", "--quiet", "--shard", "\(k)/4", "--json", "shard-\(k).json"])
      let ids =
        try JSON.parse(p.dir.read("shard-\(k).json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
      shardIDs.append(Set(ids))
      #expect(ids.count > 150 && ids.count < 350, "shard \(k) has \(ids.count) cases")
    }
    let all = shardIDs.reduce(Set<String>()) { $0.union($1) }
    #expect(all.count == 1000)
    #expect(shardIDs.map(\.count).reduce(0, +) == 1000)  // no overlap
    // The same split every time (a stable hash, not a random one).
    _ = await p.run(["--mode", "replay", "--quiet", "--shard", "2/4", "--json", "again.json"])
    let again =
      try JSON.parse(p.dir.read("again.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    #expect(Set(again) == shardIDs[1])

    let merge = await CLI.run(
      [
        "merge", "shard-3.json", "shard-1.json", "shard-4.json", "shard-2.json", "--json", "merged.json", "--junit",
        "merged.xml", "--html", "merged.html",
      ],
      in: p.dir.url)
    #expect(merge.status == 1)
    #expect(merge.stdout.hasSuffix("\nmerged 4 reports: 857 passed, 143 failed, 0 errored, 0 skipped\n"))
    // The failures are printed as `run` prints them.
    #expect(merge.stdout.hasPrefix("\nFAIL  big/case-0  "))
    #expect(
      merge.stdout.contains("    prompts/big.yaml:2: assert[0] contains: expected the output to contain \"never\""))
    #expect(try Self.withoutTimings(p.dir.read("merged.json")) == Self.withoutTimings(p.dir.read("full.json")))
    #expect(try Self.junitWithoutTimings(p.dir.read("merged.xml")) == Self.junitWithoutTimings(p.dir.read("full.xml")))
    // A shard given twice, or missing, is refused (exit 3: the gate cannot be judged).
    let twice = await CLI.run(["merge", "shard-1.json", "shard-1.json"], in: p.dir.url)
    #expect(twice.status == 3)
    #expect(
      twice.stderr
        == "error: shard 1/4 is given 2 times (shard-1.json, shard-1.json); shards 2/4, 3/4, 4/4 are missing\n")
  }

  static func withoutTimings(_ text: String) throws -> JSON {
    guard case .object(var root) = try JSON.parse(text) else { return .null }
    root["started_at"] = nil
    root["duration_ms"] = nil
    root["cases"] = .array(
      (root["cases"]?.arrayValue ?? []).map { c in
        guard case .object(var o) = c else { return c }
        o["duration_ms"] = nil
        o["latency_ms"] = nil
        return .object(o)
      })
    return .object(root)
  }

  static func junitWithoutTimings(_ xml: String) -> String {
    xml.replacingOccurrences(of: #"time="[0-9.]+""#, with: "", options: .regularExpression)
      .replacingOccurrences(of: #"timestamp="[^"]+""#, with: "", options: .regularExpression)
      .replacingOccurrences(of: #"latency: [0-9]+ ms"#, with: "", options: .regularExpression)
  }

  @Test func shardOfIsAStableHash() {
    #expect(
      Planner.shardOf("refunds/window-is-stated", count: 4) == Planner.shardOf("refunds/window-is-stated", count: 4))
    #expect((1...4).contains(Planner.shardOf("x", count: 4)))
    #expect(Planner.shardOf("anything", count: 1) == 1)
  }
}
