import Foundation

/// Cassette modes (README "Cassettes").
public enum RunMode: String, Sendable, CaseIterable {
  case replay, record, auto, live

  /// "replay, record, auto or live", for messages.
  public static var choices: String {
    let names = allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
  }
}
