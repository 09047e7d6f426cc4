import Foundation
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `promptcheck init`: a starter config and suite (pointed at the editor schemas), the
/// schemas, a CI job that replays the suites with the GitHub Action (or a GitLab job), and
/// the `.gitignore` lines. Writes only what is missing and says what it skipped.
package enum InitCommandCore {
  package enum CI: String, Sendable, CaseIterable { case github, gitlab, none }

  package struct Options: Sendable {
    package var ci = CI.github
    /// The action to use, as `uses:` takes it.
    package var action = "OWNER/promptcheck@v\(promptcheckVersion)"
    package var shards: Int?
    package init() {}
  }

  static let schemaFolder = "promptcheck.schema"

  /// The lines `.gitignore` needs: reports and scratch, and pending goldens.
  package static let ignored = [".promptcheck/", "expectations/**/*.new"]

  static let config = """
    # yaml-language-server: $schema=\(schemaFolder)/config.json
    # promptcheck configuration. Flags of `promptcheck run` may also be set here.
    tests_dir: prompts
    expectations_dir: expectations
    providers:
      openrouter:
        base_url: ${OPENROUTER_BASE_URL:-https://openrouter.ai/api/v1}
        api_key_env: OPENROUTER_API_KEY   # the key is read from this variable, never from a file
        model: qwen/qwen3-32b
        pricing: { prompt: 0.08, completion: 0.28 }   # USD per million tokens
    default_provider: openrouter

    """

  static let suite = """
    # yaml-language-server: $schema=../\(schemaFolder)/suite.json
    # An example suite. Record it once with a key:
    #   OPENROUTER_API_KEY=... promptcheck run --mode record
    # then CI replays the cassettes offline.
    description: Answers of a terse support agent
    defaults:
      system: You are a terse support agent for Acme. Answer in one sentence.
      params: { temperature: 0, seed: 42, max_tokens: 200, reasoning: { effort: none }, provider: { require_parameters: true } }
      assert:
        - not-icontains: "as an AI"
    tests:
      - name: refund window
        prompt: How long do I have to return a product?
        assert:
          - regex: '\\b\\d+\\s+days\\b'
      - name: answers in JSON
        prompt: 'Reply with a JSON object {"ok": true} and nothing else.'
        params: { response_format: { type: json_object } }
        assert:
          - is-json: { type: object, required: [ok] }

    """

  static func githubWorkflow(_ o: Options) -> String {
    let shards = o.shards ?? 1
    let sharded = shards > 1
    var w = """
      name: promptcheck
      on:
        pull_request:
      jobs:
        prompts:
          runs-on: ubuntu-latest

      """
    if sharded {
      w += """
            strategy:
              fail-fast: false
              matrix: { shard: [\((1...shards).map(String.init).joined(separator: ", "))] }

        """
    }
    w += """
          steps:
            - uses: actions/checkout@v4
              with: { fetch-depth: 0 }   # compare reads the base branch's cassettes through git
            - name: Replay the prompt suites (no key, no network)
              uses: \(o.action)
              with:
                args: --mode replay

      """
    if sharded {
      w += """
                  shard: ${{ matrix.shard }}/\(shards)

        """
    }
    w += """
            - name: What changed since the base branch, into the step summary
              if: always()
              run: >
                promptcheck compare origin/${{ github.base_ref }}
                --markdown .promptcheck/compare.md --html .promptcheck/compare.html --fail-on-regression

      """
    if sharded {
      w += """
          merge:
            needs: prompts
            if: always()
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/download-artifact@v4
                with: { pattern: promptcheck-reports-shard-*, merge-multiple: true, path: shards }
              - name: Install promptcheck
                uses: \(o.action)
                with:
                  args: --help   # only installs promptcheck here
              - name: Merge the shards (fails when one is missing)
                run: promptcheck merge shards/shard-*.json --junit junit.xml --html report.html

        """
    }
    return w
  }

  static let gitlabJob = """
    # promptcheck: replays the prompt suites from their cassettes (no key, no network) and
    # shows the JUnit report in merge requests. promptcheck is built once per version and cached.
    promptcheck:
      image: swift:6.1-noble
      variables:
        PROMPTCHECK_VERSION: "\(promptcheckVersion)"
        PROMPTCHECK_SOURCE: "https://example.com/OWNER/promptcheck.git"   # where you host promptcheck
      cache:
        key: promptcheck-$PROMPTCHECK_VERSION
        paths: [.promptcheck-bin/]
      before_script:
        - apt-get update -q && apt-get install -y -q libcurl4-openssl-dev libyaml-dev git
        - |
          if [ ! -x .promptcheck-bin/bin/promptcheck ]; then
            git clone --depth 1 --branch "v$PROMPTCHECK_VERSION" "$PROMPTCHECK_SOURCE" /tmp/promptcheck
            /tmp/promptcheck/scripts/install.sh --prefix "$PWD/.promptcheck-bin"
          fi
      script:
        - .promptcheck-bin/bin/promptcheck run --mode replay --junit junit.xml --junit-file-attributes
      artifacts:
        when: always
        paths: [.promptcheck/]
        reports:
          junit: junit.xml

    """

  /// What init writes, in order: path and text.
  package static func files(_ o: Options) -> [(path: String, text: String)] {
    var files: [(path: String, text: String)] = [
      ("promptcheck.yaml", config), ("prompts/example.yaml", suite),
      ("\(schemaFolder)/suite.json", SchemaCommandCore.text(EditorSchema.suite)),
      ("\(schemaFolder)/config.json", SchemaCommandCore.text(EditorSchema.config)),
    ]
    switch o.ci {
    case .github: files.append((".github/workflows/promptcheck.yml", githubWorkflow(o)))
    case .gitlab: files.append((".gitlab-ci.yml", gitlabJob))
    case .none: break
    }
    return files
  }

  package static func run(_ o: Options = Options(), ctx: CommandContext) -> ExitStatus {
    for f in files(o) {
      if FileManager.default.fileExists(atPath: ctx.absolute(f.path)) {
        ctx.out("skipped \(f.path) (it exists; promptcheck never overwrites it)\n")
        continue
      }
      do {
        try AtomicFile.write(f.text, to: try ctx.writable(f.path))
        ctx.out("wrote \(f.path)\n")
      } catch {
        ctx.report(Diagnostic("\(error)", at: nil))
        return .errored
      }
    }
    // .gitignore: add the lines it lacks, keep everything else.
    let path = ctx.absolute(".gitignore")
    let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    let have = Set(existing.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    let missing = ignored.filter { !have.contains($0) }
    if missing.isEmpty {
      ctx.out("skipped .gitignore (it already ignores \(ignored.joined(separator: " and ")))\n")
    } else {
      let text =
        existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n")
        + "# promptcheck: reports and scratch, and pending goldens (review them, then accept)\n"
        + missing.joined(separator: "\n") + "\n"
      do {
        try AtomicFile.write(text, to: try ctx.writable(".gitignore"))
        ctx.out(existing.isEmpty ? "wrote .gitignore\n" : "added \(missing.joined(separator: ", ")) to .gitignore\n")
      } catch {
        ctx.report(Diagnostic("\(error)", at: nil))
        return .errored
      }
    }
    ctx.out(
      "next: set OPENROUTER_API_KEY, run 'promptcheck run --mode record', and commit prompts/ and expectations/\n")
    return .ok
  }
}
