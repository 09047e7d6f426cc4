import Foundation
import PromptCheckCore

/// A JSON report on disk, read whole (label, calibrate, the gate, watch).
enum ReportFile {
  /// The report at `path` (relative to the working folder), or nil when it is missing or not JSON.
  static func json(_ path: String, _ ctx: CommandContext) -> JSON? {
    guard let data = FileManager.default.contents(atPath: ctx.absolute(path)) else { return nil }
    return try? JSON.parse(bytes: Array(data))
  }
}
