import Foundation
import PromptCheckCore

/// Reading the last JSON report back (`--rerun-failed`, `merge`).
package enum PreviousReport {
  package struct ReadError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }

    /// Every stored property (the memberwise initializer, visible to the package).
    package init(message: String) {
      self.message = message
    }
  }

  /// Ids of the cases that failed (not tolerated) or errored in the report at `path`.
  package static func failedIDs(at path: String) -> Result<Set<String>, ReadError> {
    guard let data = FileManager.default.contents(atPath: path) else {
      return .failure(ReadError(message: "no previous report at \(path); run once without --rerun-failed first"))
    }
    return JSONReport.parse(String(decoding: data, as: UTF8.self), file: path).map { Set($0.totals.problems.map(\.id)) }
  }
}
