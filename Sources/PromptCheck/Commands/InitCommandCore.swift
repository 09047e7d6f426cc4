import Foundation

/// `promptcheck init`: a starter config, an example suite and a GitHub Actions
/// workflow that replays the suite on pull requests. Never overwrites.
package enum InitCommandCore {
  package static let files: [(path: String, text: String)] = [
    (
      "promptcheck.yaml",
      """
      # promptcheck configuration. Flags of `promptcheck run` may also be set here.
      tests_dir: prompts
      expectations_dir: expectations
      providers:
        openrouter:
          base_url: https://openrouter.ai/api/v1
          api_key_env: OPENROUTER_API_KEY   # the key is read from this variable, never from a file
          model: qwen/qwen3-32b
      default_provider: openrouter

      """
    ),
    (
      "prompts/example.yaml",
      """
      # An example suite. Record it once with a key:
      #   OPENROUTER_API_KEY=... promptcheck run --mode record
      # then CI replays the cassettes offline.
      description: Answers of a terse support agent
      defaults:
        system: You are a terse support agent for Acme. Answer in one sentence.
        params: { temperature: 0, seed: 42, max_tokens: 200 }
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
    ),
    (
      ".github/workflows/promptcheck.yml",
      """
      name: promptcheck
      on:
        pull_request:
      jobs:
        prompts:
          runs-on: ubuntu-latest
          steps:
            - uses: actions/checkout@v4
              with: { fetch-depth: 0 }   # compare reads the base branch's cassettes through git
            - name: Install system libraries
              run: sudo apt-get update && sudo apt-get install -y libcurl4-openssl-dev libyaml-dev
            - name: Build promptcheck
              run: swift build -c release   # or install a released binary
            - name: Replay the prompt suites (no key, no network)
              run: .build/release/promptcheck run --mode replay --junit promptcheck-junit.xml --html promptcheck.html
            - name: What changed since the base branch (answers, goldens), into the step summary
              if: always()
              run: >
                .build/release/promptcheck compare origin/${{ github.base_ref }}
                --markdown promptcheck-compare.md --html promptcheck-compare.html --fail-on-regression
            - uses: actions/upload-artifact@v4
              if: always()
              with:
                name: promptcheck-report
                path: |
                  promptcheck-junit.xml
                  promptcheck.html
                  promptcheck-compare.md
                  promptcheck-compare.html

      """
    ),
  ]

  package static func run(ctx: CommandContext) -> ExitStatus {
    let existing = files.filter { FileManager.default.fileExists(atPath: ctx.absolute($0.path)) }
    if !existing.isEmpty {
      ctx.err(
        "error: refusing to overwrite existing files: \(existing.map(\.path).joined(separator: ", ")); nothing was written\n"
      )
      return .invalid
    }
    for f in files {
      do {
        try AtomicFile.write(f.text, to: ctx.absolute(f.path))
        ctx.out("wrote \(f.path)\n")
      } catch {
        ctx.err("error: \(error)\n")
        return .invalid
      }
    }
    ctx.out(
      "next: set OPENROUTER_API_KEY, run 'promptcheck run --mode record', and commit prompts/ and expectations/\n")
    return .ok
  }
}
