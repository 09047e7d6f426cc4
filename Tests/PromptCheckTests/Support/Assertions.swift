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

/// Builds assertions the way users write them, so the tests exercise the real parser too.
func assertions(_ yaml: String) throws -> [Assertion] {
  // Re-indent the snippet under `assert:`, whatever indentation it was written with.
  let lines = yaml.split(separator: "\n", omittingEmptySubsequences: true)
  let common = lines.map { $0.prefix { $0 == " " }.count }.min() ?? 0
  let body = lines.map { "      " + $0.dropFirst(common) }.joined(separator: "\n")
  let t = try loadTest("tests:\n  - name: t\n    prompt: x\n    assert:\n" + body + "\n")
  return t.variants[0].assertions
}

func evaluate(_ yaml: String, on completion: Completion) throws -> [Finding] {
  AssertionEvaluator().evaluate(try assertions(yaml), on: completion)
}
