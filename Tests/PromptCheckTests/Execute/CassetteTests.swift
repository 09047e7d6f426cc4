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

@Suite struct CassetteModeTests {
  func status(_ p: Project, _ id: String) throws -> (status: String?, cassette: String?) {
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    let c = report["cases"]?.arrayValue?.first { $0["id"]?.stringValue == id }
    return (c?["status"]?.stringValue, c?["cassette"]?["status"]?.stringValue)
  }

  @Test func recordThenReplayWithTheServerGone() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    var r = await p.run(["--mode", "record"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(p.dir.exists("expectations/cassettes/basic/greets.yaml"))
    #expect(p.dir.exists("expectations/cassettes/basic/streams.yaml"))
    #expect(try status(p, "basic/greets") == ("passed", "recorded"))
    p.server.stop()
    // Replay needs no key, no network: the provider's port is closed now.
    r = await CLI.run(["run", "--mode", "replay"], in: p.dir.url)
    #expect(r.status == 0, "\(r.stdout)")
    #expect(try status(p, "basic/streams") == ("passed", "replayed"))
  }

  @Test func replayNeverOpensAConnection() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    let before = p.server.connectionCount
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 0)
    #expect(p.server.connectionCount == before)
    // CI defaults to replay, and auto in CI replays too.
    #expect(await p.run([], env: ["CI": "1"]).status == 0)
    #expect(await p.run(["--mode", "auto"], env: ["CI": "1"]).status == 0)
    #expect(p.server.connectionCount == before)
  }

  @Test func streamReplayEqualsTheLiveCompletion() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    let live = try JSON.parse(p.dir.read(".promptcheck/report.json"))["cases"]?.arrayValue?[1]
    _ = await p.run(["--mode", "replay"])
    let replayed = try JSON.parse(p.dir.read(".promptcheck/report.json"))["cases"]?.arrayValue?[1]
    #expect(live?["output"] == "Echo: streamed text")
    #expect(replayed?["output"] == live?["output"])
    #expect(replayed?["usage"] == live?["usage"])
    #expect(replayed?["assertions"] == live?["assertions"])
    // The cassette keeps the events verbatim and, beside them, the assembled completion.
    let cassette = try p.dir.read("expectations/cassettes/basic/streams.yaml")
    #expect(cassette.contains("  events:\n  - '{\"id\":\"chatcmpl-s\""))
    #expect(cassette.contains("  - '[DONE]'\n  completion:\n"))
    #expect(cassette.contains("        content: 'Echo: streamed text'\n"))
  }

  @Test func replayWithoutCassetteSaysHowToRecordIt() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    let r = await p.run(["--mode", "replay", "--filter", "greets"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "no cassette for basic/greets (expectations/cassettes/basic/greets.yaml); record it with: promptcheck run --mode record --case 'basic/greets'"
      ))
    #expect(try status(p, "basic/greets") == ("errored", "missing"))
    #expect(p.server.requests.isEmpty)
  }

  @Test func staleCassetteNamesTheFirstDifferingField() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    try p.dir.write(
      "prompts/basic.yaml", simpleSuite.replacingOccurrences(of: "prompt: hello", with: "prompt: hello again"))
    var r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "cassette is stale: body.messages[0].content: recorded \"hello\", now \"hello again\" (expectations/cassettes/basic/greets.yaml); record it with: promptcheck run --mode record --case 'basic/greets'"
      ))
    #expect(try status(p, "basic/greets") == ("errored", "stale"))
    // A param change is found too.
    try p.dir.write(
      "prompts/basic.yaml",
      simpleSuite.replacingOccurrences(of: "prompt: hello\n", with: "prompt: hello\n    params: {temperature: 0.5}\n"))
    r = await p.run(["--mode", "replay", "--filter", "greets"])
    #expect(r.stdout.contains("cassette is stale: body.temperature: not recorded, now 0.5"))
    // auto re-records a stale cassette (outside CI), and then replays it.
    r = await p.run(["--mode", "auto", "--filter", "greets"])
    #expect(r.status == 0)
    #expect(try status(p, "basic/greets") == ("passed", "recorded"))
    r = await p.run(["--mode", "auto", "--filter", "greets"])
    #expect(try status(p, "basic/greets") == ("passed", "replayed"))
  }

  @Test func everyModeWithPresentAbsentAndStaleCassettes() async throws {
    // mode → (present, absent, stale) → (case status, cassette status)
    let expected: [String: [(String, String)]] = [
      "replay": [("passed", "replayed"), ("errored", "missing"), ("errored", "stale")],
      "auto": [("passed", "replayed"), ("passed", "recorded"), ("passed", "recorded")],
      "record": [("passed", "unchanged"), ("passed", "recorded"), ("passed", "recorded")],
      "live": [("passed", "live"), ("passed", "live"), ("passed", "live")],
    ]
    for (mode, outcomes) in expected {
      let p = try Project(
        suites: [
          "m": """
          tests:
            - {name: present, prompt: a}
            - {name: absent, prompt: b}
            - {name: stale, prompt: c}
          """
        ], handler: echo)
      _ = await p.run(["--mode", "record", "--filter", "m/present", "--filter", "m/stale"])
      try p.dir.write(
        "prompts/m.yaml",
        """
        tests:
          - {name: present, prompt: a}
          - {name: absent, prompt: b}
          - {name: stale, prompt: c changed}
        """)
      let cassettesBefore = try p.dir.read("expectations/cassettes/m/present.yaml")
      _ = await p.run(["--mode", mode])
      for (name, outcome) in zip(["present", "absent", "stale"], outcomes) {
        let got = try status(p, "m/\(name)")
        #expect(got.status == outcome.0 && got.cassette == outcome.1, "mode \(mode), \(name): \(got)")
      }
      // Live writes nothing; nothing rewrites an unchanged recording.
      #expect(try p.dir.read("expectations/cassettes/m/present.yaml") == cassettesBefore)
      #expect(p.dir.exists("expectations/cassettes/m/absent.yaml") == (mode == "auto" || mode == "record"))
    }
  }

  @Test func ciMakesAutoReplay() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    let r = await p.run(["--mode", "auto"], env: ["CI": "true"])
    #expect(r.status == 3)
    #expect(!p.dir.exists("expectations/cassettes/basic/greets.yaml"))
    #expect(p.server.requests.isEmpty)
  }

  @Test func theKeyNeverReachesTheCassette() async throws {
    let key = "sk-test-0123456789abcdef"
    // A server that echoes the Authorization header back, in the body and in a header.
    let p = try Project(suites: ["s": "tests: [{name: t, prompt: x}]\n"]) { request, _ in
      .json(
        FakeOpenAI.completion("your header was \(request.headers["authorization"] ?? "")"),
        headers: [("Set-Cookie", "session=\(key)"), ("X-Echo", key)])
    }
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 0)
    let cassette = try p.dir.read("expectations/cassettes/s/t.yaml")
    #expect(!cassette.contains(key))
    #expect(!cassette.lowercased().contains("authorization:"))
    #expect(!cassette.lowercased().contains("cookie"))
    #expect(cassette.contains("content: your header was Bearer <redacted>\n"))
    // And it still replays (matching ignores the key too).
    #expect(await p.run(["--mode", "replay"]).status == 0)
  }

  @Test func recordingAChangedAnswerRewritesAndReportsDrift() async throws {
    let p = try Project(suites: ["s": "tests: [{name: t, prompt: x}]\n"]) { request, attempt in
      .json(FakeOpenAI.completion(attempt == 1 ? "first" : "second", model: attempt == 1 ? "model-v1" : "model-v2"))
    }
    _ = await p.run(["--mode", "record"])
    #expect(try p.dir.read("expectations/cassettes/s/t.yaml").contains("content: first"))
    let r = await p.run(["--mode", "record"])
    #expect(r.stdout.contains("note: s/t: backend drifted: model model-v1 → model-v2"))
    #expect(try p.dir.read("expectations/cassettes/s/t.yaml").contains("content: second"))
  }

  @Test func reRecordingAnUnchangedAnswerLeavesTheFileAsItWas() async throws {
    // Each answer has a new id and timestamp, as real servers send them.
    let p = try Project(suites: ["s": "tests: [{name: t, prompt: x}]\n"]) { _, attempt in
      var body = FakeOpenAI.completion("same answer")
      if case .object(var o) = body {
        o["id"] = .string("chatcmpl-\(attempt)")
        o["created"] = .int(1_700_000_000 + attempt)
        body = .object(o)
      }
      return .json(body)
    }
    _ = await p.run(["--mode", "record"])
    let first = try p.dir.read("expectations/cassettes/s/t.yaml")
    try await Task.sleep(for: .milliseconds(1100))
    _ = await p.run(["--mode", "record"])
    #expect(try p.dir.read("expectations/cassettes/s/t.yaml") == first)
    #expect(try status(p, "s/t") == ("passed", "unchanged"))
  }

  @Test func orphansAreListedAfterAFullRunAndPruned() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    try p.dir.write("expectations/cassettes/basic/removed-test.yaml", "version: 1\n")
    try p.dir.write("expectations/cassettes/gone/suite.yaml", "version: 1\n")
    var r = await p.run(["--mode", "replay"])
    #expect(
      r.stdout.contains(
        "2 cassettes no test uses (delete with --prune):\n  expectations/cassettes/basic/removed-test.yaml\n  expectations/cassettes/gone/suite.yaml\n"
      ))
    // A filtered run says nothing about orphans.
    r = await p.run(["--mode", "replay", "--filter", "greets"])
    #expect(!r.stdout.contains("no test uses"))
    r = await p.run(["--mode", "replay", "--prune"])
    #expect(r.stdout.contains("pruned 2 unused cassettes"))
    #expect(!p.dir.exists("expectations/cassettes/gone/suite.yaml"))
    #expect(p.dir.exists("expectations/cassettes/basic/greets.yaml"))
  }

  @Test func unknownFormatVersionIsAClearError() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    let path = "expectations/cassettes/basic/greets.yaml"
    try p.dir.write(path, try p.dir.read(path).replacingOccurrences(of: "version: 1\n", with: "version: 7\n"))
    let r = await p.run(["--mode", "replay", "--filter", "greets"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "expectations/cassettes/basic/greets.yaml: error: cassette format version 7 is not supported by promptcheck 0.1.0 (it reads versions 1 and 2); re-record it"
      ))
  }

  @Test func killedRecordingLeavesEveryCassetteWholeOrAbsent() throws {
    var tests = "tests:\n"
    for i in 0..<60 {
      tests += "  - {name: case \(i), prompt: \"\(String(repeating: "long prompt ", count: 200)) \(i)\"}\n"
    }
    let p = try Project(suites: ["k": tests]) { request, _ in
      .delayed(0.05, .json(FakeOpenAI.completion(String(repeating: "a long answer line\n", count: 2000))))
    }
    let folder = p.dir.url.appendingPathComponent("expectations/cassettes/k").path
    let process = try Background(
      [BinaryRunner.binary.path, "run", "--mode", "record", "-j", "4", "--quiet"], in: p.dir.url,
      environment: ["LOCAL_TEST_KEY": "k-123456"])
    // Kill as soon as the first cassette is written: the others are being written or awaited.
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      let written =
        (try? FileManager.default.contentsOfDirectory(atPath: folder))?.contains {
          $0.hasSuffix(".yaml") && !$0.hasPrefix(".")
        } ?? false
      if written { break }
      Thread.sleep(forTimeInterval: 0.005)
    }
    kill(process.pid, SIGKILL)
    _ = process.waitForExit()
    #expect(!process.isRunning)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let cassettes = files.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }
    #expect(!cassettes.isEmpty, "the kill came before any cassette was written; nothing was tested")
    #expect(cassettes.count < 60, "the run finished before the kill; nothing was tested")
    for f in cassettes {
      let text = try String(contentsOfFile: folder + "/" + f, encoding: .utf8)
      #expect(throws: Never.self) { try Cassette.parse(text, file: f) }
    }
  }
}

@Suite struct StaleMessageTests {
  static func longPrompt(changing line: Int? = nil) -> String {
    (0..<40).map { i in
      "Rule \(i): answer the customer \(i == line ? "within two days" : "politely") and cite the policy."
    }
    .joined(separator: "\n")
  }

  @Test func aLongPromptShowsTheLineThatChangedWithItsWords() async throws {
    func suite(_ prompt: String) -> String {
      "tests:\n  - name: rules\n    system: |\n"
        + prompt.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        + "\n    prompt: hi\n"
    }
    let p = try Project(suites: ["s": suite(Self.longPrompt())], handler: echo)
    _ = await p.run(["--mode", "record"])
    try p.dir.write("prompts/s.yaml", suite(Self.longPrompt(changing: 19)))
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 3)
    let expected = [
      "    prompts/s.yaml:2: cassette expectations/cassettes/s/rules.yaml is stale: body.messages[0].content differs at line 20 of 41 (recorded: 41 lines):",
      "          18 | Rule 17: answer the customer politely and cite the policy.",
      "          19 | Rule 18: answer the customer politely and cite the policy.",
      "        - 20 | Rule 19: answer the customer [-politely-] and cite the policy.",
      "        + 20 | Rule 19: answer the customer {+within two days+} and cite the policy.",
      "          21 | Rule 20: answer the customer politely and cite the policy.",
      "          22 | Rule 21: answer the customer politely and cite the policy.",
      "      record it with: promptcheck run --mode record --case 's/rules'",
    ].joined(separator: "\n")
    #expect(r.stdout.contains(expected), "\(r.stdout)")
  }

  @Test func autoWithoutAKeySaysWhatWentStaleFirst() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    try p.dir.write(
      "prompts/basic.yaml", simpleSuite.replacingOccurrences(of: "prompt: hello", with: "prompt: hello again"))
    let r = await CLI.run(["run", "--mode", "auto", "--case", "basic/greets"], in: p.dir.url)
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "cassette is stale: body.messages[0].content: recorded \"hello\", now \"hello again\" (expectations/cassettes/basic/greets.yaml); recording it again failed: LOCAL_TEST_KEY is not set"
      ), "\(r.stdout)")
  }

  @Test func caseSelectsExactlyOneCase() async throws {
    let suite = "tests:\n  - {name: x, prompt: a}\n  - {name: x2, prompt: b}\n  - {name: r, prompt: c, repeat: 2}\n"
    let p = try Project(suites: ["s": suite], handler: echo)
    var r = await p.run(["--mode", "live", "--case", "s/x", "--json", "r.json"])
    #expect(try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["s/x"])
    r = await p.run(["--mode", "live", "--case", "s/r", "--json", "r.json"])
    #expect(
      try JSON.parse(p.dir.read("r.json"))["cases"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [
        "s/r#1", "s/r#2",
      ])
    r = await p.run(["--mode", "live", "--case", "s/"])
    #expect(r.status == 2)
  }

  @Test func shortValuesStayOnOneLine() {
    #expect(TextChange.describe("body.x", recorded: "a", now: "b") == "body.x: recorded \"a\", now \"b\"")
    #expect(TextChange.markWords("one two three", "one 2 three") == ("one [-two-] three", "one {+2+} three"))
    #expect(TextChange.markWords("same", "same more") == ("same", "same{+ more+}"))
  }
}

@Suite struct CassetteFileProblemTests {
  @Test func aWronglyTypedFieldIsNamed() throws {
    let text = """
      version: 1
      request: {method: POST, url: 'http://x/v1/chat/completions', body: {}}
      response: {status: '200', body: {}}
      """
    #expect(throws: Cassette.ReadError.self) { try Cassette.parse(text, file: "c.yaml") }
    do {
      _ = try Cassette.parse(text, file: "c.yaml")
    } catch {
      #expect(error.message == "c.yaml: error: response.status must be an integer, found \"200\"")
    }
    do {
      _ = try Cassette.parse("version: 1\nrequest: {method: POST, url: u, body: {}}\n", file: "c.yaml")
    } catch {
      #expect(error.message == "c.yaml: error: the cassette has no response")
    }
  }

  /// A suite in a folder keeps its cassettes in that folder: they are its, not orphans.
  @Test func aNestedSuitesCassettesAreNotOrphans() async throws {
    let p = try Project(suites: ["basic": simpleSuite, "team/nested": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    #expect(p.dir.exists("expectations/cassettes/team/nested/greets.yaml"))
    try p.dir.write("expectations/cassettes/team/old.yaml", "version: 1\n")
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 0)
    #expect(
      r.stdout.contains("1 cassette no test uses (delete with --prune):\n  expectations/cassettes/team/old.yaml\n"),
      "\(r.stdout)")
  }

  @Test func pruneWithAFilterIsRefusedAndAFullPruneRemovesEmptiedFolders() async throws {
    let p = try Project(suites: ["basic": simpleSuite], handler: echo)
    _ = await p.run(["--mode", "record"])
    try p.dir.write("expectations/cassettes/gone/deep/old.yaml", "version: 1\n")
    let refused = await p.run(["--mode", "replay", "--prune", "--filter", "greets"])
    #expect(refused.status == 2)
    #expect(refused.stderr.hasPrefix("error: --prune deletes the cassettes no test uses, which only a full run knows"))
    #expect(p.dir.exists("expectations/cassettes/gone/deep/old.yaml"))
    let pruned = await p.run(["--mode", "replay", "--prune"])
    #expect(pruned.status == 0)
    #expect(!p.dir.exists("expectations/cassettes/gone"))
    #expect(p.dir.exists("expectations/cassettes/basic/greets.yaml"))
  }

  @Test func aJSONAnswerToAStreamRequestSaysSo() async throws {
    let suite = "tests:\n  - name: s\n    prompt: x\n    params: {stream: true}\n"
    let p = try Project(suites: ["s": suite]) { _, _ in .json(FakeOpenAI.completion("not streamed")) }
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains(
        "the request asked for a stream (stream: true), but the server answered with one JSON body (content-type application/json); remove stream: true for this server"
      ), "\(r.stdout)")
  }

  @Test func anAnswerTooLargeForACassetteErrorsWithTheSizes() async throws {
    let big = String(repeating: "x", count: Cassette.maxBytes + 1024)
    let p = try Project(suites: ["s": "tests:\n  - {name: big, prompt: x}\n"]) { _, _ in
      .json(FakeOpenAI.completion(big))
    }
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3)
    #expect(
      r.stdout.contains("over the limit of 16,777,216 bytes (16 MiB) (lower max_tokens, or test this case live)"),
      "\(r.stdout.prefix(2000))")
    #expect(!p.dir.exists("expectations/cassettes/s/big.yaml"))
  }
}

@Suite struct ToolCallSpellingTests {
  @Test func argumentsTakeBothSpellings() throws {
    let t = try loadTest(
      """
      tests:
        - name: t
          prompt: x
          model: m
          assert:
            - tool-call:
                name: get_weather
                arguments:
                  - {path: $.city, equals: Paris}
                  - json-path: {path: $.unit, equals: celsius}
                  - json-path: $.days
      """)
    guard case .toolCall(_, let checks) = t.variants[0].assertions[0].check else {
      Issue.record("not a tool-call")
      return
    }
    #expect(checks.map(\.path.expression) == ["$.city", "$.unit", "$.days"])
  }
}

@Suite struct URLPartsTests {
  /// Cassettes match on the URL's path: scheme, host, port, query and fragment do not count.
  @Test(arguments: [
    ("http://127.0.0.1:9/v1/chat/completions", "/v1/chat/completions"),
    ("https://openrouter.ai/api/v1/chat/completions?x=1", "/api/v1/chat/completions"),
    ("https://user:pw@h.example:8443/a/b#frag", "/a/b"),
    ("http://h.example", "/"),
    ("http://h.example?q=1", "/"),
    ("http://h/é/ü?x", "/é/ü"),
    ("not a url", "not a url"),
  ])
  func pathOfAURL(_ url: String, _ path: String) {
    #expect(URLParts.path(of: url) == path)
  }

  /// A provider is OpenRouter by its URL's host: lower-cased, without credentials or port.
  @Test(arguments: [
    ("https://OpenRouter.AI/api/v1", "openrouter.ai"),
    ("http://user:pw@h.example:8443/a", "h.example"),
    ("http://[::1]:8080/v1", "[::1]"),
    ("http://[::1]/v1", "[::1]"),
    ("http://h.example?q=1", "h.example"),
    ("not a url", nil),
  ])
  func hostOfAURL(_ url: String, _ host: String?) {
    #expect(URLParts.host(of: url) == host)
  }
}

@Suite struct FileSystemReadTests {
  /// A file is read whole whatever its size (empty, a byte, more than one read's buffer), a file
  /// whose size says 0 (/proc) to its end, and a folder or a missing path is nil.
  @Test func filesAreReadWhole() throws {
    let dir = try TemporaryDirectory()
    for size in [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 3_000_001] {
      let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
      let path = dir.url.appendingPathComponent("f\(size)").path
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      #expect(FileSystem.read(path) == bytes, "\(size) bytes")
    }
    let status = try #require(FileSystem.read("/proc/self/status"))
    #expect(String(decoding: status, as: UTF8.self).contains("VmRSS"))
    #expect(FileSystem.read(dir.url.path) == nil)
    #expect(FileSystem.read(dir.url.appendingPathComponent("missing").path) == nil)
  }
}
