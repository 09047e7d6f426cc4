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
  /// The provider refused for its rate: HTTP 429, or an in-body error with code 429.
  package var rateLimited = false
  /// The provider is overloaded: HTTP 503, or an in-body error with code 503.
  package var overloaded = false

  package init(_ kind: Kind, _ message: String, retryable: Bool = false, retryAfter: Double? = nil, status: Int? = nil)
  {
    self.kind = kind
    self.message = message
    self.retryable = retryable
    self.retryAfter = retryAfter
    self.status = status
  }

  package var description: String { message }

  /// Equal when they say the same; the rate-limit and overload marks follow from the status or
  /// the error's code.
  package static func == (a: CallError, b: CallError) -> Bool {
    a.kind == b.kind && a.message == b.message && a.retryable == b.retryable && a.retryAfter == b.retryAfter
      && a.status == b.status
  }

  /// The run was cancelled (Ctrl-C, SIGTERM, SIGHUP) while the call was waiting or in flight.
  package static let cancelled = CallError(.cancelled, "cancelled")
}
