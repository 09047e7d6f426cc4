import PromptCheckCore

/// The one place an answer enters the run: every completion, error, note and judge reply a
/// source returns passes through the run's redactor here, so the evaluator, goldens, reports and
/// the terminal never see a secret (README "Limits and safety"). Requests are redacted where they
/// are written: a cassette by `Cassette.yaml(redacting:)`, a report's messages by the runner.
package struct RedactingSource: CompletionSource {
  package var base: any CompletionSource
  package var redactor: Redactor

  package init(_ base: any CompletionSource, redactor: Redactor) {
    self.base = base
    self.redactor = redactor
  }

  package func fetch(_ c: PlannedCase) async -> FetchResult {
    var f = await base.fetch(c)
    f.result = f.result.map { redactor($0) }.mapError(redacted)
    f.notes = f.notes.map { redactor($0) }
    f.recordedChange = f.recordedChange.map { redactor($0) }
    return f
  }

  package func judge(_ call: JudgeCall, for c: PlannedCase, fetched: FetchResult) async -> Result<
    JudgeAnswer, CallError
  > {
    await base.judge(call, for: c, fetched: fetched).map { answer in
      var a = answer
      a.record.body = redactor(a.record.body)
      return a
    }.mapError(redacted)
  }

  package func finish(_ c: PlannedCase, fetched: inout FetchResult, judges: [Cassette.JudgeRecord]) -> CallError? {
    base.finish(c, fetched: &fetched, judges: judges).map(redacted)
  }

  package func fetchStep(_ c: PlannedCase, number: Int, request: ChatRequest, turn: Int?, fetched: inout FetchResult)
    async -> Result<Completion, CallError>
  {
    await base.fetchStep(c, number: number, request: request, turn: turn, fetched: &fetched).map { redactor($0) }
      .mapError(redacted)
  }

  /// The simulated user's message enters redacted, as an answer does.
  package func userTurn(
    _ c: PlannedCase, number: Int, turn: Int, scripted: String?, simulator: ChatRequest?, fetched: inout FetchResult
  ) async -> Result<(text: String, answer: Completion?), CallError> {
    await base.userTurn(c, number: number, turn: turn, scripted: scripted, simulator: simulator, fetched: &fetched)
      .map { simulator == nil ? $0 : (redactor($0.text), $0.answer.map { redactor($0) }) }
      .mapError(redacted)
  }

  package func recordedRequestBody(_ c: PlannedCase) -> JSON? { base.recordedRequestBody(c) }

  func redacted(_ e: CallError) -> CallError {
    var e = e
    e.message = redactor(e.message)
    return e
  }
}
