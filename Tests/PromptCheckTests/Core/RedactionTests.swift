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
