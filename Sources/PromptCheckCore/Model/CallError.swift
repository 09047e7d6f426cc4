/// Why a call produced no completion.
package struct CallError: Error, Sendable, Equatable, CustomStringConvertible {
  package enum Kind: String, Sendable {
    case transport, http, errorObject, badBody, truncatedStream, missingKey, noCassette, staleCassette, budget,
      cancelled
    /// A 200 with no content, no tool calls and no finish reason.
    case emptyAnswer
    /// The answer came, but its cassette could not be written.
    case cassetteNotWritten
  }

  package var kind: Kind
  package var message: String
  package var retryable: Bool
  /// Seconds the server asked us to wait (`Retry-After`).
  package var retryAfter: Double?
  package var status: Int?

  package init(_ kind: Kind, _ message: String, retryable: Bool = false, retryAfter: Double? = nil, status: Int? = nil)
  {
    self.kind = kind
    self.message = message
    self.retryable = retryable
    self.retryAfter = retryAfter
    self.status = status
  }

  package var description: String { message }

  /// The run was cancelled (Ctrl-C, SIGTERM, SIGHUP) while the call was waiting or in flight.
  package static let cancelled = CallError(.cancelled, "cancelled")
}
