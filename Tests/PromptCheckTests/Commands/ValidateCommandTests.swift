import Foundation
import Testing

/// `promptcheck validate` and friends, run as a user runs them.
@Suite struct ValidateCommandTests {
  @Test func validProjectExitsZeroWithASummary() async throws {
    let dir = try TemporaryDirectory()
    try dir.write(
      "prompts/support/refunds.yaml",
      """
      tests:
        - name: a
          prompt: hi
          matrix: {lang: [en, fr]}
        - name: b
          prompt: hi
          repeat: 3
      """)
    try dir.write("prompts/other.yml", "tests: [{name: c, prompt: x}]\n")
    let r = await CLI.run(["validate"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stdout == "ok: 2 suites, 3 tests, 6 cases\n")
    #expect(r.stderr.isEmpty)
  }

  @Test func everyProblemInEveryFileIsPrintedWithACaret() async throws {
    let dir = try TemporaryDirectory()
    try dir.write("prompts/a.yaml", "tests:\n  - name: a\n    prompt: x\n    asert: []\n")
    try dir.write("prompts/b.yaml", "tests:\n  - name: b\n    prompt: x\n    params: {temperature: 9}\n")
    try dir.write("promptcheck.yaml", "jbos: 3\n")
    let r = await CLI.run(["validate"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(
      r.stderr == """
        promptcheck.yaml:1:1: error: unknown key 'jbos' in the config file; did you mean 'jobs'?
        jbos: 3
        ^
        prompts/a.yaml:4:5: error: unknown key 'asert' in tests[0]; did you mean 'assert'?
            asert: []
            ^
        prompts/b.yaml:4:27: error: params.temperature must be between 0 and 2, found 9
            params: {temperature: 9}
                                  ^
        3 errors found; nothing was run.

        """)
  }

  @Test func explicitPathsAndConfig() async throws {
    let dir = try TemporaryDirectory()
    try dir.write(
      "ci/pc.yaml", "tests_dir: suites\nproviders:\n  local: {base_url: 'http://127.0.0.1:9/v1', model: m}\n")
    try dir.write("suites/x.yaml", "tests: [{name: c, prompt: x}]\n")
    try dir.write("elsewhere/y.yaml", "tests: [{name: d, prompt: x}]\n")
    var r = await CLI.run(["validate", "--config", "ci/pc.yaml"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stdout == "ok: 1 suite, 1 tests, 1 cases\n")
    r = await CLI.run(["validate", "elsewhere/y.yaml", "suites"], in: dir.url)
    #expect(r.status == 0)
    r = await CLI.run(["validate", "missing.yaml"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("error: no such file or folder: 'missing.yaml'"))
    r = await CLI.run(["validate", "--config", "nope.yaml"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr.contains("error: cannot read 'nope.yaml': no such file"))
  }

  @Test func noTestsDirIsAClearError() async throws {
    let dir = try TemporaryDirectory()
    let r = await CLI.run(["validate"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("error: no tests dir 'prompts' here; create it with suites, or run 'promptcheck init'"))
  }

  @Test func hostileFilesFailFastWithExitTwo() throws {
    let dir = try TemporaryDirectory()
    var bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    var previous = "a"
    for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
      bomb.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
      previous = name
    }
    try dir.write("prompts/bomb.yaml", bomb.joined(separator: "\n") + "\ntests: *i\n")
    try dir.write(
      "prompts/deep.yaml",
      "tests: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n")
    try dir.write(
      "prompts/big.yaml",
      "tests:\n"
        + String(repeating: "  - {name: x, prompt: \"" + String(repeating: "a", count: 100) + "\"}\n", count: 100_000))
    let r = try BinaryRunner.run(["validate"], in: dir.url)
    #expect(r.status == 2)
    #expect(
      r.stderr.contains("prompts/bomb.yaml:7:8: error: document expands to more than 1000000 nodes (too many aliases?)")
    )
    #expect(r.stderr.contains("prompts/deep.yaml:1:135: error: nesting is deeper than 128 levels"))
    #expect(r.stderr.contains("prompts/big.yaml:1:1: error: file is too large ("))
  }

  @Test func versionAndHelp() throws {
    let dir = try TemporaryDirectory()
    var r = try BinaryRunner.run(["--version"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stdout.hasPrefix("0.1.0 (libcurl 7."), "\(r.stdout)")
    #expect(r.stdout.contains(", libyaml 0."))
    r = try BinaryRunner.run(["--help"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stdout.contains("promptcheck validate"))
    #expect(r.stdout.contains("SUBCOMMANDS:"))
    r = try BinaryRunner.run(["validate", "--bogus"], in: dir.url)
    #expect(r.status == 2)  // an invalid invocation, as the contract says
    #expect(r.stderr.contains("Unknown option '--bogus'"))
  }
}
