import Foundation

/// Cassette modes (README "Cassettes").
public enum RunMode: String, Sendable, CaseIterable {
  case replay, record, auto, live
}
