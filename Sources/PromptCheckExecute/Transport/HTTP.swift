import PromptCheckCore

/// An HTTP request as promptcheck sends it.
package struct HTTPRequest: Sendable {
  package var method: String
  package var url: String
  /// Header fields in order (names as written).
  package var headers: [(name: String, value: String)]
  package var body: [UInt8]
  /// Whole-request timeout, in seconds.
  package var timeout: Double
  /// The most bytes of (decoded) body taken; a larger answer ends the transfer (`tooLarge`).
  package var maxResponseBytes: Int = HTTPRequest.defaultMaxResponseBytes
  /// Seconds with no byte received after which the transfer ends (`stalled`); nil: none.
  package var stallTimeout: Double? = nil

  /// 32 MiB (README "Limits and safety").
  package static let defaultMaxResponseBytes = 32 << 20
  /// Called with each piece of the body as it arrives (on the transfer thread), for a caller
  /// that passes an answer on while it streams (`serve --mode auto`).
  package var onData: (@Sendable (BodyPiece) -> Void)? = nil

  /// A piece of a response body as it arrives.
  package struct BodyPiece: Sendable {
    /// Which transfer it belongs to (a retry is another transfer).
    package var transfer: UInt64
    package var status: Int
    package var bytes: [UInt8]
  }

  package init(
    method: String = "POST", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
    timeout: Double = 120
  ) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
    self.timeout = timeout
  }
}

package struct HTTPResponse: Sendable {
  package var status: Int
  /// Header fields of the final response, in order, names lower-cased.
  package var headers: [(name: String, value: String)]
  package var body: [UInt8]
  /// Seconds from the start of the transfer to its end.
  package var duration: Double
  /// "1.1", "2", …
  package var httpVersion: String

  package init(
    status: Int, headers: [(name: String, value: String)], body: [UInt8], duration: Double, httpVersion: String = "1.1"
  ) {
    self.status = status
    self.headers = headers
    self.body = body
    self.duration = duration
    self.httpVersion = httpVersion
  }

  package func header(_ name: String) -> String? {
    let n = name.lowercased()
    return headers.last { $0.name == n }?.value
  }
}

/// Why a transfer did not produce a response.
package enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Could not connect, the connection broke, DNS failed…: retryable.
  case connection(String)
  case timeout(seconds: Double)
  /// No byte came for this many seconds (a stream that went quiet, a server that never answers).
  case stalled(seconds: Double)
  /// The answer was larger than the limit (counted after decompression).
  case tooLarge(limit: Int)
  case cancelled
  /// Anything else curl reports (bad URL, TLS setup): not retryable.
  case other(String)

  package var description: String {
    switch self {
    case .connection(let m): return "connection failed: \(m)"
    case .timeout(let s): return "timed out after \(NumberText.format(s)) s"
    case .stalled(let s): return "no byte came for \(NumberText.format(s)) s (stall_timeout)"
    case .tooLarge(let limit):
      return "the answer is larger than \(limit) bytes (max_response_bytes; raise it with --max-response-bytes)"
    case .cancelled: return "cancelled"
    case .other(let m): return m
    }
  }

  package var isRetryable: Bool {
    switch self {
    case .connection, .timeout, .stalled: return true
    case .cancelled, .other, .tooLarge: return false
    }
  }
}

/// Sends HTTP requests. The libcurl client implements it; tests may give another.
package protocol HTTPTransport: Sendable {
  func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}
