import Foundation
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

@Suite struct ConfigReuseTests {
  @Test func environmentVariablesExpandInConfigStrings() {
    let text = """
      providers:
        local:
          base_url: ${LLM_URL:-http://127.0.0.1:8088}/v1
          model: ${LLM_MODEL}
      jobs: ${JOBS:-4}
      """
    let (c, problems) = ConfigLoader.load(text: text, file: "c.yaml", environment: ["LLM_MODEL": "smollm2"])
    #expect(problems.isEmpty, "\(problems)")
    #expect(c.provider(named: "local")?.baseURL == "http://127.0.0.1:8088/v1")
    #expect(c.provider(named: "local")?.model == "smollm2")
    #expect(c.run.jobs == 4)
    let (d, _) = ConfigLoader.load(
      text: text, file: "c.yaml", environment: ["LLM_MODEL": "m", "LLM_URL": "https://x.test"])
    #expect(d.provider(named: "local")?.baseURL == "https://x.test/v1")
  }

  @Test func anUnsetVariableAndAHeaderAreErrorsAtTheirPlace() {
    let (_, problems) = ConfigLoader.load(
      text: "providers:\n  p:\n    base_url: ${NOPE}\n    headers: {X-Team: '${TEAM}'}\n    model: m\n", file: "c.yaml",
      environment: ["TEAM": "a"])
    #expect(
      problems.map(\.description) == [
        "c.yaml:3:15: error: the environment variable NOPE is not set; set it, or give a default: ${NOPE:-value}",
        "c.yaml:4:23: error: headers take no ${…}: a value from the environment would be written into every cassette; name a key's variable in api_key_env instead",
      ])
  }

  @Test func sharedDefaultsAndSuiteGlobs() async throws {
    let dir = try TemporaryDirectory()
    try dir.write(
      "promptcheck.yaml",
      """
      providers:
        local: {base_url: "http://127.0.0.1:9/v1", model: m}
      suites: ["prompts/**/*.suite.yaml"]
      defaults:
        params: {temperature: 0, seed: 1}
        assert: [{not-contains: "as an AI"}]
      """)
    try dir.write(
      "prompts/a.suite.yaml",
      "defaults:\n  params: {seed: 2}\n  assert: [{contains: ok}]\ntests:\n  - {name: t, prompt: x}\n")
    try dir.write("prompts/deep/b.suite.yaml", "tests:\n  - {name: u, prompt: y}\n")
    try dir.write("prompts/fixtures/data.yaml", "not: [a suite\n")  // would not even parse
    let loaded = ProjectLoader.load(configPath: nil, paths: [], directory: dir.url.path)
    let project = try #require(loaded.project, "\(loaded.diagnostics)")
    #expect(project.suites.map(\.name) == ["a.suite", "deep/b.suite"])
    let t = try #require(project.suites.first?.tests.first)
    #expect(JSON.object(t.variants[0].params).serialized() == "{\"temperature\":0,\"seed\":2}")
    #expect(t.variants[0].assertions.map(\.fullKind) == ["not-contains", "contains"])
    let u = try #require(project.suites.last?.tests.first)
    #expect(JSON.object(u.variants[0].params).serialized() == "{\"temperature\":0,\"seed\":1}")
  }

  @Test func globs() {
    #expect(SuiteGlob.literalPrefix("prompts/**/*.yaml") == "prompts")
    #expect(SuiteGlob.literalPrefix("a/b/c.yaml") == "a/b")
    let r = try? NSRegularExpression(pattern: "^" + SuiteGlob.pattern("prompts/**/*.yaml") + "$")
    func m(_ s: String) -> Bool { r?.firstMatch(in: s, range: NSRange(location: 0, length: s.utf16.count)) != nil }
    #expect(m("prompts/a.yaml") && m("prompts/x/y/a.yaml") && !m("prompts/a.yml") && !m("other/a.yaml"))
  }
}
