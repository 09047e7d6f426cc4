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

/// Regexes on model output or user documents always stop at the guard's deadline.
@Suite struct RegexGuardTests {
  static let evil = "((a*)*)*b"
  static let subject = String(repeating: "a", count: 1000)

  @Test func jsonPathSearchStopsWithTheDeadline() throws {
    let path = try JSONPath("$[?search(@, \"\(Self.evil)\")]")
    let clock = ContinuousClock()
    let start = clock.now
    #expect(throws: RegexTimeoutError.self) {
      try path.select(.array([.string(Self.subject)]), deadline: .milliseconds(200))
    }
    // Well under the hang it used to be; generous for a loaded machine.
    #expect(clock.now - start < .seconds(10))
  }

  @Test func theMessageNamesThePatternAndTheFix() {
    let e = RegexTimeoutError(pattern: Self.evil, limit: .seconds(1), textLength: 1000)
    #expect(
      e.description
        == "the regex /((a*)*)*b/ ran longer than 1 s on a text of 1000 characters and was stopped; simplify it (nested quantifiers such as (a*)* or (a+)+ backtrack exponentially)"
    )
  }

  @Test func queryReportsTheTimeoutAsAnInvalidInvocation() throws {
    let doc = Array("[\"\(Self.subject)\"]".utf8)
    let r = QueryCommandCore.run(expression: "$[?search(@, \"\(Self.evil)\")]", document: doc, paths: false)
    guard case .failure(.regexTimeout(let e)) = r else {
      Issue.record("expected a regex timeout, got \(r)")
      return
    }
    #expect(e.pattern == Self.evil)
  }

  @Test func goldenReplaceStops() throws {
    let regex = try CompiledRegex(Self.evil)
    let r = GoldenStore.normalize(Self.subject, [.replace(regex, with: "x")])
    guard case .failure(let e) = r else {
      Issue.record("expected a failure")
      return
    }
    #expect(e.message.hasPrefix("normalize replace: the regex /((a*)*)*b/ ran longer than 1 s"))
  }

  @Test func replaceStillReplacesWithTemplates() throws {
    let regex = try CompiledRegex("#(\\d+)")
    #expect(try regex.replacingMatches(in: "a #12 b #3", with: "<$1>") == "a <12> b <3>")
    #expect(try regex.replacingMatches(in: "none", with: "x") == "none")
    #expect(try CompiledRegex("é").replacingMatches(in: "café 👍🏽 é", with: "e") == "cafe 👍🏽 e")
  }

  @Test func aRunWithAnEvilSearchErrorsNoHang() async throws {
    let p = try Project(suites: [
      "s": """
      tests:
        - name: hostile
          prompt: x
          assert:
            - json-path: {path: "$[?search(@, '((a*)*)*b')]", exists: true}
      """
    ]) { _, _ in .json(FakeOpenAI.completion("[\"\(Self.subject)\"]")) }
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("ran longer than 1 s on a text of 1000 characters and was stopped"), "\(r.stdout)")
  }
}

@Suite struct NumberTextTests {
  @Test func numbersReadAsWritten() {
    #expect(NumberText.format(0.05) == "0.05")
    #expect(NumberText.format(1.05) == "1.05")
    #expect(NumberText.format(10.0) == "10")
    #expect(NumberText.format(0.5) == "0.5")
    #expect(NumberText.format(120) == "120")
    #expect(NumberText.money(0.05) == "0.05")
    #expect(NumberText.money(2) == "2.0")
  }

  @Test func messagesUseIt() {
    #expect(TransportError.timeout(seconds: 0.05).description == "timed out after 0.05 s")
    #expect(TransportError.timeout(seconds: 1.05).description == "timed out after 1.05 s")
    #expect(TransportError.timeout(seconds: 30).description == "timed out after 30 s")
  }
}

/// A server that echoes the key, and a prompt that holds it, leave it in no file and no output.
@Suite struct RedactionTests {
  static let key = "sk-test-0123456789abcdef"

  @Test func anEchoedKeyReachesNoFileAndNoTerminal() async throws {
    let p = try Project(suites: [
      "s": """
      tests:
        - name: leaky
          prompt: "my key is \(Self.key), repeat it"
          golden: true
          assert: [{contains: "never there"}]
        - name: leaky json
          prompt: x
          golden: {on: response}
      """
    ]) { request, _ in
      let auth = request.headers["authorization"] ?? request.headers["Authorization"] ?? "none"
      return .json(FakeOpenAI.completion("you sent \(auth)"))
    }
    for args in [
      ["--mode", "record", "--html", "out/r.html", "--verbose"], ["--mode", "replay", "--html", "out/r.html"],
    ] {
      let r = await p.run(args)
      #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
      #expect(r.stdout.contains("you sent Bearer <redacted>"), "\(r.stdout)")
      #expect(!r.stdout.contains(Self.key) && !r.stderr.contains(Self.key))
    }
    let updated = await p.run(["--mode", "replay", "--update-goldens"])
    #expect(!updated.stdout.contains(Self.key))
    var leaks: [String] = []
    let e = FileManager.default.enumerator(atPath: p.dir.url.path)
    while let f = e?.nextObject() as? String {
      guard !f.hasPrefix("prompts/"),
        let data = FileManager.default.contents(atPath: p.dir.url.appendingPathComponent(f).path)
      else { continue }
      if String(decoding: data, as: UTF8.self).contains(Self.key) { leaks.append(f) }
    }
    #expect(leaks == [], "the key is in \(leaks)")
    #expect(try p.dir.read("expectations/golden/s/leaky.txt") == "you sent Bearer <redacted>\n")
  }

  @Test func redactorReplacesEverywhere() {
    let r = Redactor(secrets: ["abcd", "abcdef", "x"])
    #expect(r("1 abcdef 2 abcd") == "1 <redacted> 2 <redacted>")
    #expect(r.secrets == ["abcdef", "abcd"])
    #expect(
      r(JSON.object(JSONObject([("abcd", .array([.string("abcd!")]))]))).serialized()
        == "{\"<redacted>\":[\"<redacted>!\"]}")
  }
}

/// What cannot be written is never a silent pass. (Tests run as root, which ignores
/// read-only modes, so an obstacle stands where a folder or file must go.)
@Suite struct SilentDataLossTests {
  @Test func aCassetteThatCannotBeWrittenErrorsTheCase() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n"], handler: echo)
    try p.dir.write("expectations/cassettes/s", "a file where the suite's folder must go")
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("the answer could not be recorded: cannot write '"), "\(r.stdout)")
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    #expect(report["cases"]?.arrayValue?.first?["status"] == "errored")
  }

  @Test func aGoldenThatCannotBeWrittenErrorsTheCase() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n    golden: true\n"], handler: echo)
    try p.dir.write("expectations/golden/s", "in the way")
    let r = await p.run(["--mode", "live", "--update-goldens"])
    #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("the golden could not be written"), "\(r.stdout)")
  }

  @Test func aPendingGoldenThatCannotBeWrittenSaysSo() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n    golden: true\n"], handler: echo)
    try FileManager.default.createDirectory(
      at: p.dir.url.appendingPathComponent("expectations/golden/s/a.txt.new"), withIntermediateDirectories: true)
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 1)
    #expect(
      r.stdout.contains("no golden at expectations/golden/s/a.txt; could not write expectations/golden/s/a.txt.new: "),
      "\(r.stdout)")
  }

  @Test func aReportThatCannotBeWrittenExitsThree() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: a\n    prompt: hello\n"], handler: echo)
    try p.dir.write("blocked", "a file, not a folder")
    let r = await p.run(["--mode", "live", "--json", "blocked/report.json"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("error: the report could not be written: cannot write"), "\(r.stderr)")
  }
}
