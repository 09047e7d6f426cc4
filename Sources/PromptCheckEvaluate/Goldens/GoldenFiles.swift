import Foundation
import PromptCheckCore

/// Golden files on disk (for orphan listings and `accept`).
package enum GoldenFiles {
  /// Golden files (not pending `.new` ones) under `root`, relative to it.
  package static func all(in root: String) -> [String] {
    files(in: root) { $0.hasSuffix(".txt") || $0.hasSuffix(".json") }
  }

  /// Pending goldens (`CASE.txt.new`, `CASE.json.new`) under `root`, relative to it.
  package static func pending(in root: String) -> [String] {
    files(in: root) { $0.hasSuffix(".txt.new") || $0.hasSuffix(".json.new") }
  }

  static func files(in root: String, where keep: (String) -> Bool) -> [String] {
    FileSystem.files(under: root, where: keep)
  }
}
