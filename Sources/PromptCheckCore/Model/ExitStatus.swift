/// The exit statuses of every command (README "Exit status"; README "Commands").
package enum ExitStatus: Int32, Sendable, Comparable {
  /// Every test passed (or the command did what it was asked).
  case ok = 0
  /// Behaviour changed: an assertion or a golden failed.
  case failed = 1
  /// Invalid invocation or invalid files: nothing was run.
  case invalid = 2
  /// Nothing failed, but a case (or the run's output) could not be produced.
  case errored = 3
  /// Cancelled with Ctrl-C; the reports were still written.
  case cancelled = 130

  package static func < (a: ExitStatus, b: ExitStatus) -> Bool { a.rawValue < b.rawValue }
}
