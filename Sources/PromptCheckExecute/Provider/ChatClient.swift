import Foundation
import PromptCheckCore

/// Retries with exponential backoff and jitter (README "Calling the API").
package struct RetryPolicy: Sendable {
  package var retries: Int
  /// First backoff, in seconds; doubled for each further retry.
  package var baseDelay: Double = 0.5
  package var maxDelay: Double = 30
  /// Longest `Retry-After` honoured; a server asking for more is waited on for this long.
  package var maxRetryAfter: Double = 60

  package init(retries: Int) { self.retries = retries }

  /// Delay before retry number `n` (1-based): full backoff scaled by a random factor in [0.5, 1].
  package func delay(retry n: Int, retryAfter: Double?) -> Double {
    if let retryAfter { return min(max(retryAfter, 0), maxRetryAfter) }
    let backoff = min(maxDelay, baseDelay * pow(2, Double(n - 1)))
    return backoff * Double.random(in: 0.5...1)
  }
}

/// A call that produced a completion: what was sent and what came back.
package struct Exchange: Sendable {
  package var method: String
  package var url: String
  /// Headers sent, without any secret.
  package var requestHeaders: [(name: String, value: String)]
  package var requestBody: JSON
  package var status: Int
  package var responseHeaders: [(name: String, value: String)]
  package var decoded: ChatResponse.Decoded
  /// Seconds the final (successful) attempt took.
  package var duration: Double
}

/// The outcome of one call with its retries.
package struct CallOutcome: Sendable {
  package var result: Result<Exchange, CallError>
  package var attempts: Int
}

/// Calls an OpenAI-compatible chat-completions endpoint over a transport.
package struct ChatClient: Sendable {
  package var transport: any HTTPTransport
  package var retry: RetryPolicy
  package var timeout: Double
  /// Where API keys are read from (the process environment in the CLI).
  package var environment: [String: String]
  /// `retry_empty`: ask once more when a 200 holds no content, no tool calls and no finish reason.
  package var retryEmpty: Bool
  /// The answer's size, a stream's quiet, the call's time with its retries.
  package var limits: CallLimits
  /// Adaptive concurrency and pacing per provider; nil (`--no-adapt`): every attempt goes at once
  /// and a 429 spends a retry.
  package var governor: RateGovernor?

  package init(
    transport: any HTTPTransport, retry: RetryPolicy, timeout: Double, environment: [String: String],
    retryEmpty: Bool = true, limits: CallLimits = .standard, governor: RateGovernor? = nil
  ) {
    self.governor = governor
    self.limits = limits
    self.transport = transport
    self.retry = retry
    self.timeout = timeout
    self.environment = environment
    self.retryEmpty = retryEmpty
  }

  /// The key for a provider, or the error that says which variable to set.
  package func apiKey(for provider: Provider) -> Result<String?, CallError> {
    guard let variable = provider.apiKeyEnv else { return .success(nil) }
    guard let key = environment[variable], !key.isEmpty else {
      return .failure(
        CallError(
          .missingKey,
          "\(variable) is not set: provider '\(provider.name)' needs it for live calls (replaying cassettes needs no key)"
        ))
    }
    return .success(key)
  }

  /// `onData` sees each attempt's status and body pieces as they arrive (see `HTTPRequest.onData`).
  package func call(_ request: ChatRequest, onData: (@Sendable (HTTPRequest.BodyPiece) -> Void)? = nil) async
    -> CallOutcome
  {
    let key: String?
    switch apiKey(for: request.provider) {
    case .failure(let e): return CallOutcome(result: .failure(e), attempts: 0)
    case .success(let k): key = k
    }
    let body = request.body
    var headers = request.publicHeaders
    if let key { headers.insert(("Authorization", "Bearer \(key)"), at: 0) }
    var http = HTTPRequest(
      method: "POST", url: request.url, headers: headers, body: Array(body.serialized().utf8), timeout: timeout)
    http.onData = onData
    http.maxResponseBytes = limits.maxResponseBytes
    if request.isStream { http.stallTimeout = limits.stallTimeout }
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int(limits.callDeadline * 1000)))
    func secondsLeft() -> Double {
      let d = clock.now.duration(to: deadline)
      return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    let lane = RateGovernor.lane(url: request.url, key: key)
    var attempt = 0
    var retriesSpent = 0
    var emptyAnswers = 0
    while true {
      attempt += 1
      var ticket: RateGovernor.Ticket?
      if let governor {
        guard let t = await governor.acquire(lane: lane) else {
          return CallOutcome(result: .failure(CallError.cancelled), attempts: attempt - 1)
        }
        ticket = t
      }
      let failure: CallError
      // No attempt waits past the call's deadline.
      http.timeout = min(timeout, max(secondsLeft(), 0.001))
      var rateWait: Double?
      do {
        let response = try await transport.send(http)
        let now = Date().timeIntervalSince1970
        let decodedResult =
          request.endpoint == .chat
          ? ChatResponse.decode(response, stream: request.isStream, now: now)
          : ChatResponse.decodeEmbeddings(response, now: now)
        let headers = RateHeaders.parse(response.headers, now: now)
        switch decodedResult {
        case .success(let decoded) where request.endpoint == .chat && ChatResponse.isEmptyAnswer(decoded.body):
          if let ticket { governor?.finish(ticket, .accepted(headers)) }
          emptyAnswers += 1
          let again = retryEmpty && emptyAnswers == 1
          failure = CallError(
            .emptyAnswer,
            "the answer was empty: no content, no tool calls and no finish reason"
              + (emptyAnswers > 1 ? " (\(emptyAnswers) times)" : ""), retryable: again, status: response.status)
          if again {
            // An empty answer is asked once more at once, whatever the retry budget.
            continue
          }
          return CallOutcome(result: .failure(failure), attempts: attempt)
        case .success(let decoded):
          if let ticket { governor?.finish(ticket, .accepted(headers)) }
          let exchange = Exchange(
            method: "POST", url: request.url, requestHeaders: request.publicHeaders, requestBody: body,
            status: response.status, responseHeaders: response.headers, decoded: decoded, duration: response.duration)
          return CallOutcome(result: .success(exchange), attempts: attempt)
        case .failure(let e):
          failure = e
          if let ticket {
            let signal: RateSignal =
              e.rateLimited
              ? .limited(retryAfter: e.retryAfter, headers) : e.overloaded ? .overloaded : .accepted(headers)
            rateWait = governor?.finish(ticket, signal)
          }
        }
      } catch {
        if let ticket { governor?.finish(ticket, .none) }
        if error == .cancelled { return CallOutcome(result: .failure(CallError.cancelled), attempts: attempt) }
        if case .timeout = error, http.timeout < timeout {
          failure = CallError(
            .transport, "the call took its whole call_deadline of \(NumberText.format(limits.callDeadline)) s")
        } else {
          failure = CallError(.transport, error.description, retryable: error.isRetryable)
        }
      }
      let delay: Double
      if let rateWait {
        // A refusal for the rate waits as the governor says and spends no retry.
        delay = rateWait
      } else {
        retriesSpent += 1
        guard failure.retryable, retriesSpent <= retry.retries else {
          return CallOutcome(
            result: .failure(failure.retryable ? giveUp(failure, attempt) : failure), attempts: attempt)
        }
        delay = retry.delay(retry: retriesSpent, retryAfter: failure.retryAfter)
      }
      guard delay < secondsLeft() else {
        var e = giveUp(failure, attempt)
        e.message +=
          rateWait == nil
          ? "; no retry fits in the call_deadline of \(NumberText.format(limits.callDeadline)) s"
          : "; waiting \(NumberText.format((delay * 10).rounded() / 10)) s more for the rate limit does not fit in the call_deadline of \(NumberText.format(limits.callDeadline)) s"
        return CallOutcome(result: .failure(e), attempts: attempt)
      }
      if failure.rateLimited, let ticket { governor?.waited(ticket, delay) }
      if await pause(delay) == false {
        return CallOutcome(result: .failure(CallError.cancelled), attempts: attempt)
      }
    }
  }

  private func giveUp(_ e: CallError, _ attempts: Int) -> CallError {
    var e = e
    if attempts > 1 { e.message += " (gave up after \(attempts) attempts)" }
    return e
  }

  /// Sleeps; false when the task was cancelled meanwhile.
  private func pause(_ seconds: Double) async -> Bool {
    do {
      try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
      return true
    } catch {
      return false
    }
  }
}
