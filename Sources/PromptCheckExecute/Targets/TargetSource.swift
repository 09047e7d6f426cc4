import Foundation
import PromptCheckCore
import Synchronization

/// A case whose target is the team's app (README "Testing your app"). Replay reads the app's
/// answer and its model calls from the cassette and runs nothing — unless `liveTarget`: then the
/// app runs and its model calls are answered from the cassette. Record (and `auto` on a miss)
/// runs the app with its model calls forwarded to the provider, each kept as an `app` step.
package final class TargetSource: Sendable {
  let store: CassetteStore
  let mode: RunMode
  let liveTarget: Bool
  let client: ChatClient?
  let transport: (any HTTPTransport)?
  let endpoint: (any AppEndpoint)?
  let redactor: Redactor
  let budget: CostBudget
  let environment: [String: String]
  let directory: String

  /// Apps started by `start:`, by target name (each started once, when a case first needs it).
  private let started = Mutex<[String: Result<AppProcess, TargetError>]>([:])
  private let starting = Mutex<[String: Task<Result<AppProcess, TargetError>, Never>]>([:])
  /// A started app is one process for every case: its cases take turns.
  private let turns = Mutex<[String: TurnTaker]>([:])
  private let tokens = Atomic<Int>(0)

  /// What a cassette holds in place of the per-run endpoint URL.
  package static let baseURLMark = "${PROMPTCHECK_MODEL_BASE_URL}"

  package init(
    store: CassetteStore, mode: RunMode, liveTarget: Bool, client: ChatClient?, transport: (any HTTPTransport)?,
    endpoint: (any AppEndpoint)?, redactor: Redactor, budget: CostBudget, environment: [String: String],
    directory: String
  ) {
    self.store = store
    self.mode = mode
    self.liveTarget = liveTarget
    self.client = client
    self.transport = transport
    self.endpoint = endpoint
    self.redactor = redactor
    self.budget = budget
    self.environment = environment
    self.directory = directory
  }

  /// Stops every app this run started.
  package func stop() {
    let apps = started.withLock { s in
      let all = s.values.compactMap { try? $0.get() }
      s = [:]
      return all
    }
    for app in apps { app.stop() }
  }

  deinit { stop() }

  // MARK: One case

  /// What the target answered (its answer text as the completion; its model calls as steps).
  package func fetch(_ c: PlannedCase) async -> FetchResult {
    let display = store.displayPath(c)
    guard let target = c.variant.appTarget else {
      return failed(.badBody, "the case has no target", display, status: .none)
    }
    var onDisk: Cassette?
    var unreadable: String?
    switch store.load(c) {
    case .found(let cassette): onDisk = cassette
    case .unreadable(let message): unreadable = message
    case .absent: break
    }
    // The request as the cassette holds it (the endpoint's URL as a mark).
    let marked: Exchange
    switch exchange(target, c, baseURL: Self.baseURLMark) {
    case .success(let e): marked = e
    case .failure(let e): return failed(.badBody, "target \(target.name): \(e.message)", display, status: .none)
    }
    let difference = onDisk.flatMap { Self.difference($0, marked) }
    let replays = (mode == .replay || mode == .auto) && onDisk != nil && difference == nil
    if mode == .replay {
      guard let onDisk else {
        let why = unreadable ?? "no cassette at \(display)"
        return failed(.noCassette, CassetteSource.withCommand(why, c), display, status: .missing)
      }
      if let difference {
        let message = CassetteSource.staleMessage("the target request differs: \(difference)", display)
        return failed(.staleCassette, CassetteSource.withCommand(message, c), display, status: .stale)
      }
      if !liveTarget { return replayed(onDisk, target, c, display) }
    } else if replays, let onDisk, !liveTarget {
      return replayed(onDisk, target, c, display)
    }
    // The app runs: its model calls replayed (replay with --live-target) or forwarded.
    let replayingCalls = mode == .replay
    let log = AppCallLog(
      recorded: replayingCalls ? Array((onDisk?.steps ?? []).prefix { $0.kind == .app }) : nil,
      provider: target.provider ?? c.provider,
      client: replayingCalls ? nil : client, redactor: redactor, budget: budget)
    let ran = await run(target, c, log: log)
    var f: FetchResult
    switch ran {
    case .failure(let e):
      // An app that stops on the 404 its missing call got is stale at that call, not broken.
      if replayingCalls, let miss = log.miss {
        return failed(.staleCassette, redactor("\(miss) (\(display))"), display, status: .stale)
      }
      return failed(.http, redactor(e.message), display, status: .none)
    case .success(let (exchange, answer)):
      if let miss = log.miss {
        return failed(
          replayingCalls ? .staleCassette : .http, redactor(miss), display, status: replayingCalls ? .stale : .none)
      }
      let completion = redactor(
        Completion(
          content: answer, response: exchange.decoded.body, latencyMS: Int((exchange.duration * 1000).rounded())))
      f = FetchResult(
        result: .success(completion), attempts: log.attempts,
        cassette: CassetteReport(path: display, status: replayingCalls ? .replayed : mode == .live ? .live : .recorded))
      f.onDisk = onDisk
      f.stepRecords = log.steps
      f.calling = !replayingCalls
      if !replayingCalls {
        // The request as marked, the answer as it came.
        var recorded = marked
        recorded.status = exchange.status
        recorded.responseHeaders = exchange.responseHeaders
        recorded.decoded = exchange.decoded
        recorded.duration = exchange.duration
        var cassette = Cassette(caseID: c.id, recordedAt: Date(), exchange: recorded)
        cassette.steps = log.steps
        f.toRecord = cassette
      }
    }
    return f
  }

  /// A conversation's later turn (README "Conversations" with an app target): the target asked
  /// again with the conversation so far (`{{prompt}}` the turn's message). Replayed while the
  /// cassette's steps from `number` on — the app's model calls, then the target's exchange —
  /// match; run (and kept) otherwise, as the mode says.
  package func fetchTurn(_ c: PlannedCase, messages: [JSON], number: Int, turn: Int, fetched: inout FetchResult) async
    -> Result<[Step], CallError>
  {
    guard let target = c.variant.appTarget else { return .failure(CallError(.badBody, "the case has no target")) }
    var now = c
    now.variant.messages = messages
    let at = "step \(number) (turn \(turn))"
    let marked: Exchange
    switch exchange(target, now, baseURL: Self.baseURLMark) {
    case .success(let e): marked = e
    case .failure(let e): return .failure(CallError(.badBody, "\(at): target \(target.name): \(e.message)"))
    }
    // Replaying: the turn's recorded app calls and target exchange, when its request is the same.
    var replayed: (calls: [Cassette.StepRecord], target: Cassette.StepRecord)?
    if !fetched.calling {
      let recorded = fetched.onDisk?.steps ?? []
      var k = number - 2
      var calls: [Cassette.StepRecord] = []
      while k >= 0, k < recorded.count, recorded[k].kind == .app {
        calls.append(recorded[k])
        k += 1
      }
      var why = CassetteSource.notRecorded(fetched)
      if k >= 0, k < recorded.count, recorded[k].kind == .target {
        let body = recorded[k].request["body"] ?? .null
        if let diff = Cassette.firstDifference(body.canonicalized, marked.requestBody.canonicalized, path: "body") {
          why = "the target request differs: \(diff)"
        } else {
          replayed = (calls, recorded[k])
        }
      }
      if let (calls, record) = replayed, !liveTarget {
        // The app is not run: its answer and model calls as recorded.
        switch answerText(target, record.response["body"] ?? .null) {
        case .failure(let e): return .failure(CallError(.badBody, "\(store.displayPath(c)): \(at): \(e.message)"))
        case .success(let text):
          fetched.stepRecords += calls + [record]
          return .success(
            calls.compactMap { try? $0.step().get() }
              + [Self.targetStep(text, body: record.response["body"] ?? .null, durationMS: record.durationMS)])
        }
      }
      if replayed == nil,
        let refused = fetched.reRecord(c, from: at, why: why, mode: mode, display: store.displayPath(c))
      {
        return .failure(refused)
      }
    }
    // The app runs: its model calls answered from the turn's recorded ones (--live-target), or forwarded.
    let log = AppCallLog(
      recorded: replayed?.calls, provider: target.provider ?? c.provider, client: replayed == nil ? client : nil,
      redactor: redactor, budget: budget)
    let ran = await run(target, now, log: log)
    if let miss = log.miss {
      return .failure(CallError(replayed == nil ? .http : .staleCassette, redactor("\(at): \(miss)")))
    }
    switch ran {
    case .failure(let e):
      return .failure(CallError(.http, redactor("\(at): \(e.message)")))
    case .success(let (exchange, answer)):
      let duration = Int((exchange.duration * 1000).rounded())
      if let (calls, record) = replayed {
        fetched.stepRecords += calls + [record]
      } else {
        fetched.attempts += log.attempts
        fetched.stepRecords +=
          log.steps + [
            Cassette.StepRecord(
              kind: .target, durationMS: duration,
              request: ["method": .string(marked.method), "url": .string(marked.url), "body": marked.requestBody],
              response: ["status": .int(exchange.status), "body": exchange.decoded.body])
          ]
      }
      return .success(
        log.steps.compactMap { try? $0.step().get() }
          + [Self.targetStep(redactor(answer), body: exchange.decoded.body, durationMS: duration)])
    }
  }

  /// The app's answer as the step a turn's reply is.
  static func targetStep(_ text: String, body: JSON, durationMS: Int) -> Step {
    Step(
      kind: .target, answer: .completion(Completion(content: text, response: body, latencyMS: durationMS)),
      durationMS: durationMS)
  }

  /// The cassette's answer and model calls, the app not run.
  func replayed(_ cassette: Cassette, _ target: AppTarget, _ c: PlannedCase, _ display: String) -> FetchResult {
    switch answerText(target, cassette.body) {
    case .failure(let e):
      return failed(.badBody, "\(display): \(e.message)", display, status: .stale)
    case .success(let text):
      var f = FetchResult(
        result: .success(Completion(content: text, response: cassette.body, latencyMS: cassette.durationMS)),
        attempts: 0, cassette: CassetteReport(path: display, status: .replayed))
      f.onDisk = cassette
      // The first answer's model calls (a conversation's later turns are read turn by turn).
      f.stepRecords = Array(cassette.steps.prefix { $0.kind == .app })
      return f
    }
  }

  func failed(_ kind: CallError.Kind, _ message: String, _ display: String, status: CassetteReport.Status)
    -> FetchResult
  {
    FetchResult(
      result: .failure(CallError(kind, message)), attempts: 0, cassette: CassetteReport(path: display, status: status))
  }

  func answerText(_ target: AppTarget, _ body: JSON) -> Result<String, TargetError> {
    switch target.kind {
    case .http(let h): TargetAnswer.text(body, path: h.response, pathText: h.responseText, streamed: h.streamed)
    case .command(let cmd): TargetAnswer.text(body, path: cmd.response, pathText: cmd.responseText, streamed: false)
    }
  }

  /// Where a recorded target request and this one differ (method, URL, body); nil when they match.
  static func difference(_ recorded: Cassette, _ now: Exchange) -> String? {
    if recorded.method != now.method { return "method: recorded \(recorded.method), now \(now.method)" }
    if recorded.url != now.url { return "url: recorded \(recorded.url), now \(now.url)" }
    return Cassette.firstDifference(recorded.requestBody.canonicalized, now.requestBody.canonicalized, path: "body")
  }

  /// `marked`: each `${VAR}` left as it is written (the cassette's form, needing no environment).
  func values(_ c: PlannedCase, baseURL: String, marked: Bool = false) -> TargetValues {
    var env = environment
    if marked, let target = c.variant.appTarget {
      env = [:]
      for name in target.secretReferences { env[name] = "${\(name)}" }
    }
    return TargetValues(
      vars: c.variant.vars, prompt: c.variant.messages.lastUserText ?? "", messages: c.variant.messages,
      session: TargetValues.session(for: c), modelBaseURL: baseURL, environment: env)
  }

  /// The target's request for a case as an exchange (no answer yet), with the secret values redacted.
  func exchange(_ target: AppTarget, _ c: PlannedCase, baseURL: String) -> Result<Exchange, TargetError> {
    let v = values(c, baseURL: baseURL, marked: true)
    switch target.kind {
    case .http(let h):
      return h.request(v, session: target.session).map { request, body in
        Exchange(
          method: request.method, url: redactor(request.url),
          requestHeaders: request.headers.map { ($0.name, redactor($0.value)) }, requestBody: redactor(body), status: 0,
          responseHeaders: [], decoded: ChatResponse.Decoded(body: .null, events: nil), duration: 0)
      }
    case .command(let cmd):
      let stdin: String
      switch cmd.stdin.map(v.render) ?? .success("") {
      case .success(let s): stdin = s
      case .failure(let e): return .failure(TargetError("stdin: \(e.message)"))
      }
      let body: JSON = ["run": .array(cmd.argv.map(JSON.string)), "stdin": .string(redactor(stdin))]
      return .success(
        Exchange(
          method: "RUN", url: "command", requestHeaders: [], requestBody: body, status: 0, responseHeaders: [],
          decoded: ChatResponse.Decoded(body: .null, events: nil), duration: 0))
    }
  }

  // MARK: Running the app

  /// Runs the target for a case with its model calls going to `log`: the exchange as it went, and the answer.
  func run(_ target: AppTarget, _ c: PlannedCase, log: AppCallLog) async -> Result<(Exchange, String), TargetError> {
    guard let endpoint else { return .failure(TargetError("no endpoint for the app's model calls in this run")) }
    let token = "c\(tokens.add(1, ordering: .relaxed).newValue)"
    let own = endpoint.open(token, log)
    defer { endpoint.close(token) }
    let clock = ContinuousClock()
    switch target.kind {
    case .command(let cmd):
      let v = values(c, baseURL: own)
      let stdin: String
      switch cmd.stdin.map(v.render) ?? .success("") {
      case .success(let s): stdin = s
      case .failure(let e): return .failure(TargetError("target \(target.name): stdin: \(e.message)"))
      }
      var env: [(name: String, value: String)] = [
        (target.baseURLEnv, own), (target.apiKeyEnv, AppTarget.placeholderKey),
      ]
      for (name, value) in cmd.env {
        switch v.render(value) {
        case .success(let s): env.append((name, s))
        case .failure(let e): return .failure(TargetError("target \(target.name): env.\(name): \(e.message)"))
        }
      }
      let start = clock.now
      let finished: Subprocess.Finished
      switch await Subprocess.run(
        cmd.argv, input: stdin, timeoutMS: cmd.timeoutMS, environment: env, cwd: directory)
      {
      case .failure(let e): return .failure(TargetError("target \(target.name): \(e.message)"))
      case .success(let f): finished = f
      }
      let seconds = Double((clock.now - start).milliseconds) / 1000
      if finished.timedOut {
        return .failure(
          TargetError(
            "target \(target.name): `\(cmd.display)` ran longer than \(cmd.timeoutMS) ms (timeout_ms) and was killed"))
      }
      guard finished.status == 0 else {
        let how = finished.status.map { "exited with status \($0)" } ?? "was ended by signal \(finished.signal ?? 0)"
        let tail = finished.stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500)
        return .failure(
          TargetError("target \(target.name): `\(cmd.display)` \(how)" + (tail.isEmpty ? "" : ": \(tail)")))
      }
      var out = finished.stdout
      if out.hasSuffix("\n") { out.removeLast() }
      var body = JSON.string(out)
      if cmd.json {
        guard let parsed = try? JSON.parse(out) else {
          return .failure(
            TargetError(
              "target \(target.name): `\(cmd.display)` printed no JSON (output: json); it starts \(Excerpt.start(out))")
          )
        }
        body = parsed
      }
      return answerText(target, body).map { answer in
        (
          Exchange(
            method: "RUN", url: "command", requestHeaders: [], requestBody: .null, status: 0, responseHeaders: [],
            decoded: ChatResponse.Decoded(body: redactor(body), events: nil), duration: seconds), answer
        )
      }.mapError { TargetError("target \(target.name): \($0.message)") }
    case .http(let h):
      guard let transport else { return .failure(TargetError("no HTTP client in this run")) }
      var baseURL = own
      var taker: TurnTaker?
      if let start = h.start {
        switch await app(target, start, endpoint: endpoint) {
        case .failure(let e): return .failure(e)
        case .success(let app):
          if let problem = app.problem { return .failure(TargetError(problem)) }
        }
        // One process serves every case: they take turns, each case's calls tagged while it runs.
        let t = turns.withLock { all in
          if let t = all[target.name] { return t }
          let t = TurnTaker()
          all[target.name] = t
          return t
        }
        await t.acquire()
        taker = t
        endpoint.attach(target.name, token: token)
        baseURL = endpoint.shared(target.name)
      }
      defer { if let taker { Task { await taker.release() } } }
      let request: HTTPRequest
      switch h.request(values(c, baseURL: baseURL), session: target.session) {
      case .failure(let e): return .failure(TargetError("target \(target.name): \(e.message)"))
      case .success(let (r, _)): request = r
      }
      let response: HTTPResponse
      do {
        response = try await transport.send(request)
      } catch {
        var message = "target \(target.name): \(request.method) \(redactor(request.url)): \(error)"
        if h.start != nil, let app = started.withLock({ try? $0[target.name]?.get() }) { message += app.tailText }
        return .failure(TargetError(message))
      }
      let text = String(decoding: response.body, as: UTF8.self)
      guard (200..<300).contains(response.status) else {
        return .failure(
          TargetError(
            "target \(target.name): the app answered HTTP \(response.status): \(Excerpt.start(text, length: 300))"))
      }
      let body: JSON = h.streamed ? .string(text) : (try? JSON.parse(bytes: response.body)) ?? .string(text)
      return answerText(target, body).map { answer in
        (
          Exchange(
            method: request.method, url: request.url, requestHeaders: [], requestBody: .null, status: response.status,
            responseHeaders: response.headers, decoded: ChatResponse.Decoded(body: redactor(body), events: nil),
            duration: response.duration), answer
        )
      }.mapError { TargetError("target \(target.name): \($0.message)") }
    }
  }

  /// The started app of a target: started the first time a case needs it (cases that need it
  /// meanwhile wait for the same start).
  func app(_ target: AppTarget, _ start: AppStart, endpoint: any AppEndpoint) async -> Result<
    AppProcess, TargetError
  > {
    let name = target.name
    if let done = started.withLock({ $0[name] }) { return done }
    // Its model calls go to the shared URL; `${VAR}` in its env read now.
    var env: [(name: String, value: String)] = [
      (target.baseURLEnv, endpoint.shared(name)), (target.apiKeyEnv, AppTarget.placeholderKey),
    ]
    let v = TargetValues(vars: [:], prompt: "", messages: [], session: "", modelBaseURL: "", environment: environment)
    for (k, value) in start.env {
      switch v.expandEnvironment(value) {
      case .success(let s): env.append((k, s))
      case .failure(let e): return .failure(TargetError("target \(name): start.env.\(k): \(e.message)"))
      }
    }
    var plain = start
    plain.env = []
    let task = starting.withLock { s in
      if let t = s[name] { return t }
      let t = Task { [directory, transport, env, plain] in
        await AppProcess.start(plain, name: name, environment: env, directory: directory, transport: transport)
      }
      s[name] = t
      return t
    }
    let result = await task.value
    started.withLock { $0[name] = result }
    return result
  }
}

/// Cases of one started app take turns (its model calls are told apart by which case runs).
actor TurnTaker {
  private var busy = false
  private var waiting: [CheckedContinuation<Void, Never>] = []

  func acquire() async {
    if !busy {
      busy = true
      return
    }
    await withCheckedContinuation { waiting.append($0) }
  }

  func release() {
    if waiting.isEmpty {
      busy = false
    } else {
      waiting.removeFirst().resume()
    }
  }
}
