import Foundation

/// Timestamps in UTC with a fixed pattern (reports, cassettes).
package enum UTCTime {
  package static func formatter(_ pattern: String) -> DateFormatter {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = pattern
    return f
  }

  /// `2026-11-25T18:00:00.123Z`
  package static let milliseconds = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
  /// `2026-11-25T18:00:00Z`
  package static let seconds = "yyyy-MM-dd'T'HH:mm:ss'Z'"
  /// `2026-11-25T18:00:00`, no zone (what strict JUnit consumers accept).
  package static let zoneless = "yyyy-MM-dd'T'HH:mm:ss"
}
