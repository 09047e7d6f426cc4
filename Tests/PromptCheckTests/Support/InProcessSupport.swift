import Foundation
import PromptCheck
import Synchronization

@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe
@testable import promptcheck

/// Runs a command line in this process: the real argument parsing and the command's
/// core, with a context that captures standard output and error. Most tests use this;
/// `BinaryRunner` is kept for what only a process shows (signals, the entry point).
enum CLI {
  final class Capture: Sendable {
    let text = Mutex("")
    func append(_ s: String) { text.withLock { $0 += s } }
    var value: String { text.withLock { $0 } }
  }

  static func run(
    _ arguments: [String], in directory: URL, environment: [String: String] = [:], stdin: String? = nil
  ) async -> BinaryRunner.Result {
    let out = Capture()
    let err = Capture()
    let input = Array((stdin ?? "").utf8)
    let ctx = CommandContext(
      environment: environment, directory: directory.path, stdoutIsTTY: false, out: { out.append($0) },
      err: { err.append($0) }, readInput: { _ in .success(input) })
    if let message = PromptCheckCommand.unknownCommand(arguments) {
      return BinaryRunner.Result(status: 2, stdout: "", stderr: message + "\n")
    }
    let status: Int32
    do {
      let parsed = try PromptCheckCommand.parseAsRoot(arguments)
      guard let command = parsed as? any ContextCommand else {
        return BinaryRunner.Result(status: -1, stdout: "", stderr: "\(type(of: parsed)) does not run in process")
      }
      status = await command.run(in: ctx).rawValue
    } catch {
      let code = PromptCheckCommand.exitCode(for: error)
      let message = PromptCheckCommand.fullMessage(for: error)
      if code == .success {
        out.append(message + "\n")
        status = 0
      } else {
        err.append(message + "\n")
        status = code == .validationFailure ? 2 : code.rawValue
      }
    }
    return BinaryRunner.Result(status: status, stdout: out.value, stderr: err.value)
  }
}
