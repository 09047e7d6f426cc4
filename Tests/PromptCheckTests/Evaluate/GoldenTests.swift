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

@Suite struct UnifiedDiffTests {
  /// A small seeded generator, so a failure can be reproduced.
  struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  static func randomText(_ rng: inout SplitMix) -> String {
    let words = ["alpha", "beta", "gamma", "", "delta", "epsilon", "  indented", "zeta eta", "theta"]
    let lines = (0..<Int.random(in: 0...14, using: &rng)).map { _ in words.randomElement(using: &rng)! }
    var text = lines.joined(separator: "\n")
    if !lines.isEmpty && Bool.random(using: &rng) { text += "\n" }
    return text
  }

  static func mutate(_ text: String, _ rng: inout SplitMix) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for _ in 0..<Int.random(in: 0...4, using: &rng) {
      switch Int.random(in: 0...2, using: &rng) {
      case 0 where !lines.isEmpty: lines.remove(at: Int.random(in: 0..<lines.count, using: &rng))
      case 1:
        lines.insert("new \(Int.random(in: 0...99, using: &rng))", at: Int.random(in: 0...lines.count, using: &rng))
      default: if !lines.isEmpty { lines[Int.random(in: 0..<lines.count, using: &rng)] += " changed" }
      }
    }
    var out = lines.joined(separator: "\n")
    if Int.random(in: 0...5, using: &rng) == 0 { out += "\n" }
    return out
  }

  /// Property: `patch` applied to the old text with the printed diff gives the new text.
  @Test func patchAppliesThePrintedDiff() throws {
    var rng = SplitMix(state: 20261125)
    let dir = try TemporaryDirectory()
    for round in 0..<150 {
      let old = Self.randomText(&rng)
      let new = Self.mutate(old, &rng)
      let diff = UnifiedDiff.diff(old: old, new: new, oldName: "a/file.txt", newName: "b/file.txt")
      if old == new {
        #expect(diff.isEmpty)
        continue
      }
      try dir.write("file.txt", old)
      try dir.write("change.diff", diff)
      let result = try Shell.run(
        "patch", ["-s", "-p1", "-d", dir.url.path, "-i", dir.url.appendingPathComponent("change.diff").path])
      #expect(result.status == 0, "round \(round): \(result.output)\n\(diff)")
      let patched = try dir.read("file.txt")
      #expect(
        patched == new,
        "round \(round):\n\(diff)\nold: \(old.debugDescription)\nnew: \(new.debugDescription)\ngot: \(patched.debugDescription)"
      )
    }
  }

  @Test func hunksHaveThreeLinesOfContext() {
    let old = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
    let new = old.replacingOccurrences(of: "line 10\n", with: "line ten\n")
    #expect(
      UnifiedDiff.diff(old: old, new: new, oldName: "g", newName: "g.new") == """
        --- g
        +++ g.new
        @@ -7,7 +7,7 @@
         line 7
         line 8
         line 9
        -line 10
        +line ten
         line 11
         line 12
         line 13

        """)
  }
}

@Suite struct GoldenRunTests {
  func project(_ answer: @escaping @Sendable () -> String, golden: String = "true") throws -> Project {
    try Project(suites: [
      "g": """
      tests:
        - name: story
          prompt: tell
          golden: \(golden)
      """
    ]) { _, _ in .json(FakeOpenAI.completion(answer())) }
  }

  @Test func missingGoldenFailsAndWritesPending() async throws {
    let p = try project({ "Once upon a time.\nThe end." })
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(
      r.stdout.contains(
        "golden: no golden at expectations/golden/g/story.txt; wrote expectations/golden/g/story.txt.new (review it, then run 'promptcheck accept')"
      ))
    #expect(try p.dir.read("expectations/golden/g/story.txt.new") == "Once upon a time.\nThe end.\n")
    // accept turns it into the golden; then the run passes.
    let a = await CLI.run(["accept"], in: p.dir.url)
    #expect(a.status == 0)
    #expect(a.stdout == "accepted expectations/golden/g/story.txt\n")
    #expect(!p.dir.exists("expectations/golden/g/story.txt.new"))
    #expect(await p.run(["--mode", "live"]).status == 0)
    #expect(await CLI.run(["accept"], in: p.dir.url).stdout == "no pending goldens\n")
  }

  @Test func changedOutputFailsWithAUnifiedDiff() async throws {
    let p = try project({ "Once upon a time.\nThe dragon slept.\nThe end.\n" })
    try p.dir.write("expectations/golden/g/story.txt", "Once upon a time.\nThe dragon woke.\nThe end.\n")
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(
      r.stdout.contains(
        """
        golden: the output differs from expectations/golden/g/story.txt (wrote expectations/golden/g/story.txt.new):
              --- expectations/golden/g/story.txt
              +++ expectations/golden/g/story.txt.new
              @@ -1,3 +1,3 @@
               Once upon a time.
              -The dragon woke.
              +The dragon slept.
               The end.
        """))
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    let golden = report["cases"]?.arrayValue?.first?["golden"]
    #expect(golden?["status"] == "changed")
    #expect(golden?["diff"]?.stringValue?.contains("-The dragon woke.\n+The dragon slept.\n") == true)
    let junit = try p.dir.read(".promptcheck/junit.xml")
    #expect(junit.contains("-The dragon woke.\n+The dragon slept."))
    // An equal golden passes and removes a stale pending file.
    try p.dir.write("expectations/golden/g/story.txt", "Once upon a time.\nThe dragon slept.\nThe end.\n")
    #expect(await p.run(["--mode", "live"]).status == 0)
    #expect(!p.dir.exists("expectations/golden/g/story.txt.new"))
  }

  @Test func normalisersApplyToBothSides() async throws {
    let p = try project(
      { "  Order   #4812 ships\n\n in 3 days.  " },
      golden: "{normalize: [trim, collapse-whitespace, {replace: '#\\d+', with: '#N'}]}")
    try p.dir.write("expectations/golden/g/story.txt", "Order #N ships in 3 days.")
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
  }

  @Test func jsonGoldensArePrettyWithSortedKeysAndDropVolatileFields() async throws {
    let p = try project({ "{\"b\": 1, \"a\": [true, null]}" }, golden: "{on: response}")
    _ = await p.run(["--mode", "live", "--update-goldens"])
    let stored = try p.dir.read("expectations/golden/g/story.json")
    #expect(!stored.contains("\"id\""))
    #expect(!stored.contains("\"created\""))
    #expect(stored.hasPrefix("{\n  \"choices\": [\n"))
    #expect(await p.run(["--mode", "live"]).status == 0)
    let q = try project({ "{\"b\": 1, \"a\": [true, null]}" }, golden: "{normalize: [json]}")
    _ = await q.run(["--mode", "live", "--update-goldens"])
    #expect(
      try q.dir.read("expectations/golden/g/story.json") == "{\n  \"a\": [\n    true,\n    null\n  ],\n  \"b\": 1\n}\n")
  }

  @Test func updateGoldensWritesThemAndIsRefusedInCI() async throws {
    let p = try project({ "fresh" })
    try p.dir.write("expectations/golden/g/story.txt", "stale")
    let refused = await p.run(["--mode", "live", "--update-goldens"], env: ["CI": "1"])
    #expect(refused.status == 2)
    #expect(try p.dir.read("expectations/golden/g/story.txt") == "stale")
    let r = await p.run(["--mode", "live", "--update-goldens"])
    #expect(r.status == 0)
    #expect(try p.dir.read("expectations/golden/g/story.txt") == "fresh\n")
  }

  @Test func orphanGoldensAreListed() async throws {
    let p = try project({ "x" })
    try p.dir.write("expectations/golden/g/story.txt", "x")
    try p.dir.write("expectations/golden/g/old-test.txt", "y")
    let r = await p.run(["--mode", "live"])
    #expect(r.stdout.contains("1 golden no test uses:\n  expectations/golden/g/old-test.txt\n"))
  }

  @Test func reviewReadsAnswersFromStandardInput() throws {
    let dir = try TemporaryDirectory()
    try dir.write("expectations/golden/s/a.txt", "old a\n")
    try dir.write("expectations/golden/s/a.txt.new", "new a\n")
    try dir.write("expectations/golden/s/b.txt.new", "brand new b\n")
    try dir.write("expectations/golden/s/c.txt.new", "c\n")
    let r = try BinaryRunner.run(["review"], in: dir.url, stdin: "a\nr\ns\n")
    #expect(r.status == 0)
    #expect(
      r.stdout.contains(
        "[1/3] expectations/golden/s/a.txt\n--- expectations/golden/s/a.txt\n+++ expectations/golden/s/a.txt.new\n@@ -1 +1 @@\n-old a\n+new a\n"
      ))
    #expect(r.stdout.contains("[2/3] expectations/golden/s/b.txt (new golden)\n"))
    #expect(r.stdout.hasSuffix("accepted 1, rejected 1, left 1 pending\n"))
    #expect(try dir.read("expectations/golden/s/a.txt") == "new a\n")
    #expect(!dir.exists("expectations/golden/s/b.txt.new"))
    #expect(!dir.exists("expectations/golden/s/b.txt"))
    #expect(dir.exists("expectations/golden/s/c.txt.new"))
  }

  @Test func acceptWithAFilter() async throws {
    let dir = try TemporaryDirectory()
    try dir.write("expectations/golden/refunds/a.txt.new", "1")
    try dir.write("expectations/golden/other/b.json.new", "{}")
    let r = await CLI.run(["accept", "refunds/*"], in: dir.url)
    #expect(r.stdout == "accepted expectations/golden/refunds/a.txt\n")
    #expect(dir.exists("expectations/golden/other/b.json.new"))
  }
}

@Suite struct GoldenNewlineTests {
  @Test func aGoldenEndsWithANewlineAndAnEditorsNewlineIsNoChange() async throws {
    let p = try Project(suites: ["g": "tests:\n  - {name: s, prompt: tell, golden: true}\n"]) { _, _ in
      .json(FakeOpenAI.completion("line one\nline two"))
    }
    _ = await p.run(["--mode", "live", "--update-goldens"])
    #expect(try p.dir.read("expectations/golden/g/s.txt") == "line one\nline two\n")
    // A golden saved without the final newline (an older file, another editor) still matches.
    try p.dir.write("expectations/golden/g/s.txt", "line one\nline two")
    #expect(await p.run(["--mode", "live"]).status == 0)
    // A real change shows a diff with no "No newline at end of file" marker.
    try p.dir.write("expectations/golden/g/s.txt", "line one\nline 2\n")
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("-line 2\n      +line two"))
    #expect(!r.stdout.contains("No newline"))
  }
}

@Suite struct ReviewContextTests {
  @Test func reviewShowsTheCaseItsPromptAndItsAssertionsAndExplainsABadKey() async throws {
    let p = try Project(
      suites: [
        "s": """
        tests:
          - name: story
            prompt: "Tell a story\\nabout a dragon\\nin three lines\\nand a moral"
            assert: [{contains: dragon}, {not-contains: knight}]
            golden: true
        """
      ]) { _, _ in .json(FakeOpenAI.completion("A dragon slept.")) }
    _ = await p.run(["--mode", "live"])
    let r = try BinaryRunner.run(["review"], in: p.dir.url, stdin: "x\na\n")
    #expect(r.status == 0)
    #expect(
      r.stdout.contains(
        """
        [1/1] s/story (new golden)  expectations/golden/s/story.txt
          prompts/s.yaml:2
          prompt: Tell a story
                  about a dragon
                  in three lines …
          asserts: contains, not-contains
          golden: on output
        """), "\(r.stdout)")
    #expect(r.stdout.contains("'x' is not an answer: a accepts, r rejects (deletes the .new file), s skips, q quits\n"))
    #expect(try p.dir.read("expectations/golden/s/story.txt") == "A dragon slept.\n")
  }
}
