import Foundation

/// Cassette modes (README "Cassettes").
package enum RunMode: String, Sendable, CaseIterable {
  case replay, record, auto, live
}
