import Foundation

/// Cassette modes (README "Cassettes").
package enum RunMode: String, Sendable, CaseIterable {
  case replay, record, auto, live

  /// "replay, record, auto or live", for messages.
  package static var choices: String {
    let names = allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
  }
}
