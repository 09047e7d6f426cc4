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

/// Runs a tool from PATH.
enum Shell {
  /// Through the project's own spawn (Foundation's `Process.run()` can crash; see `Subprocess.capture`):
  /// standard error after standard output, as one text.
  static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
    switch Subprocess.capture([tool] + args, timeoutMS: 600_000) {
    case .failure(let e): throw e
    case .success(let r): return (r.status ?? -1, String(decoding: r.stdout + r.stderr, as: UTF8.self))
    }
  }

  /// The same from an async test, on a thread of its own: a test waiting for a child must not hold
  /// one of the few threads of Swift's cooperative pool, which the servers under test run on.
  static func run(_ tool: String, _ args: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { c in
      Thread.detachNewThread { c.resume(with: Result { try run(tool, args) as (status: Int32, output: String) }) }
    }
  }
}

/// Python's junitparser, where it is installed (.ci/run installs it from PyPI).
let junitparserAvailable: Bool = (try? Shell.run("python3", ["-c", "import junitparser"]).status == 0) ?? false

/// Python's jsonschema, where it is installed (.ci/run installs it from PyPI).
let jsonschemaAvailable: Bool = (try? Shell.run("python3", ["-c", "import jsonschema"]).status == 0) ?? false

/// The official OpenAI Python SDK, where it is installed (.ci/run installs it from PyPI).
let openaiSDKAvailable: Bool = (try? Shell.run("python3", ["-c", "import openai"]).status == 0) ?? false

/// Chromium, where the machine has it (Debian's `chromium` package).
let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
  FileManager.default.isExecutableFile(atPath: $0)
}
