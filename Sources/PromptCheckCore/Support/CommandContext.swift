import Foundation
import Synchronization

/// What the process gives a command: environment, working folder, terminal and output.
package struct CommandContext: Sendable {
  package var environment: [String: String]
  package let directory: String
  /// The project folder (`directory`): every file a command writes or deletes is inside it.
  /// Resolved and opened once, when the context is made.
  package let project: ProjectRoot
  package var stdoutIsTTY: Bool
  package var out: @Sendable (String) -> Void
  package var err: @Sendable (String) -> Void
  /// Standard input read to its end (`query -`), within `limit` bytes.
  package var readInput: @Sendable (_ limit: Int) -> Result<[UInt8], InputFile.ReadError>

  package init(
    environment: [String: String], directory: String, stdoutIsTTY: Bool,
    out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
    readInput: @escaping @Sendable (_ limit: Int) -> Result<[UInt8], InputFile.ReadError> = {
      InputFile.read("/dev/stdin", limit: $0)
    }
  ) {
    self.environment = environment
    self.directory = directory
    project = ProjectRoot(directory)
    self.stdoutIsTTY = stdoutIsTTY
    self.out = out
    self.err = err
    self.readInput = readInput
  }

  /// Prints each diagnostic on standard error, one a line; true when any is an error.
  @discardableResult
  package func report(_ diagnostics: [Diagnostic]) -> Bool {
    for d in diagnostics { err(d.description + "\n") }
    return diagnostics.contains { $0.severity == .error }
  }

  package func report(_ diagnostic: Diagnostic) { report([diagnostic]) }

  package var isCI: Bool { !(environment["CI"] ?? "").isEmpty }

  /// Columns of the terminal: its size when standard output is one (the process sets it),
  /// else `COLUMNS`, else 80.
  package var terminalWidth: Int?

  package var width: Int { terminalWidth ?? environment["COLUMNS"].flatMap(Int.init) ?? 80 }

  /// A terminal that takes cursor movement and colour: a TTY whose `TERM` is not `dumb`.
  package var isSmartTerminal: Bool { stdoutIsTTY && environment["TERM"] != "dumb" }

  /// `path` (relative to the working folder) as a path to write, or why it may not be written.
  package func writable(_ path: String) throws(PathError) -> ProjectPath {
    do {
      return try project.path(absolute(path))
    } catch {
      // Named as the user (or the report) wrote it.
      throw PathError(path: path, reason: error.reason)
    }
  }

  package func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
  }
}

/// What a command said, kept (a page's action shows it instead of printing it).
package final class CapturedText: Sendable {
  let text = Mutex("")
  package init() {}
  package func append(_ s: String) { text.withLock { $0 += s } }
  package var value: String { text.withLock { $0 } }
}

extension CommandContext {
  /// This context with its output and errors kept in `captured` instead of printed.
  package func capturing() -> (ctx: CommandContext, text: () -> String) {
    let captured = CapturedText()
    var c = self
    c.out = { captured.append($0) }
    c.err = { captured.append($0) }
    c.stdoutIsTTY = false
    return (c, { captured.value.trimmingCharacters(in: .whitespacesAndNewlines) })
  }
}
