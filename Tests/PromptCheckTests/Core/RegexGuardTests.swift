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

  /// A pattern is compiled once a process: loaded again (the same defaults in another suite file)
  /// it is the same compiled regex; other flags are another one, and each matches as its own.
  @Test func aPatternIsCompiledOnce() throws {
    let pattern = #"\bcompiled-once-\d+\b"#
    let a = try CompiledRegex(pattern)
    let b = try CompiledRegex(pattern)
    let folded = try CompiledRegex(pattern, flags: "i")
    #expect(a.regex === b.regex)
    #expect(a.regex !== folded.regex)
    #expect(try a.firstMatch(in: "COMPILED-ONCE-7") == nil)
    #expect(try folded.firstMatch(in: "COMPILED-ONCE-7") != nil)
    #expect(throws: CompiledRegex.CompileError.self) { try CompiledRegex(pattern + "(") }
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
