import Foundation
import PromptCheckCore

/// Where cassettes live: `expectations/cassettes/SUITE/CASE.yaml`.
package struct CassetteStore: Sendable {
  /// As the user names it (e.g. `expectations/cassettes`), for messages.
  package var root: String
  /// Absolute, for I/O.
  package var absoluteRoot: String
  /// The project: cassettes are written only inside it, and read only from inside it.
  package var project: ProjectRoot

  /// `root` relative to the project folder (or absolute inside it).
  package init(root: String, project: ProjectRoot) {
    self.root = root
    self.project = project
    absoluteRoot = root.hasPrefix("/") ? root : project.path + "/" + root
  }

  package func relativePath(_ c: PlannedCase) -> String { "\(c.suite)/\(c.fileStem).yaml" }
  package func displayPath(_ c: PlannedCase) -> String { root + "/" + relativePath(c) }
  package func absolutePath(_ c: PlannedCase) -> String { absoluteRoot + "/" + relativePath(c) }
  /// The case's cassette as a path to write, or why it may not be written.
  package func writablePath(_ c: PlannedCase) throws(PathError) -> ProjectPath {
    try project.path(absolutePath(c))
  }

  package enum Lookup {
    case absent
    case unreadable(String)
    case found(Cassette)
  }

  /// The case's cassette; `readAhead` is its file's bytes when they were read already.
  package func load(_ c: PlannedCase, readAhead: [UInt8]? = nil) -> Lookup {
    let data: [UInt8]
    if let readAhead {
      data = readAhead
    } else {
      switch FileSystem.readRegular(absolutePath(c), limit: Cassette.maxBytes, within: project) {
      case .success(let bytes): data = bytes
      case .failure(.absent): return .absent
      case .failure(.refused(let why)): return .unreadable("\(displayPath(c)): error: \(why)")
      }
    }
    do {
      return .found(try Cassette.parse(bytes: data, file: displayPath(c)))
    } catch {
      return .unreadable(error.message)
    }
  }
}

/// Cassette modes (README "Cassettes"): replays, records, or calls live, as the mode says.
package struct CassetteSource: CompletionSource {
  package var store: CassetteStore
  /// The effective mode (`auto` in CI already turned into `replay`).
  package var mode: RunMode
  /// Live calls; nil when the mode never calls (replay), so replay cannot open a connection.
  package var client: ChatClient?
  package var budget: CostBudget
  /// The run's secrets: cassettes are matched and written through it.
  package var redactor: Redactor
  /// Reads the cassettes of the cases about to run ahead of them (a long replay).
  package var prefetch: CassettePrefetch?

  package init(store: CassetteStore, mode: RunMode, client: ChatClient?, budget: CostBudget, redactor: Redactor) {
    self.store = store
    self.mode = mode
    self.client = client
    self.budget = budget
    self.redactor = redactor
  }

  /// The command that records exactly this case (`--case` takes an exact id, not a pattern).
  static func rerecordCommand(_ c: PlannedCase) -> String {
    "promptcheck run --mode record --case '\(c.id.replacingOccurrences(of: "'", with: "'\\''"))'"
  }

  /// `17,826,816 bytes (17 MiB)`
  static func megabytes(_ bytes: Int) -> String {
    var digits = String(bytes)
    var grouped = ""
    while digits.count > 3 {
      grouped = "," + digits.suffix(3) + grouped
      digits.removeLast(3)
    }
    return digits + grouped + " bytes (\(bytes / 1_048_576) MiB)"
  }

  /// "cassette is stale: DIFF (PATH)", or the path first when the difference spans lines.
  static func staleMessage(_ diff: String, _ display: String) -> String {
    diff.contains("\n") ? "cassette \(display) is stale: \(diff)" : "cassette is stale: \(diff) (\(display))"
  }

  /// "…; record it with: CMD", on a line of its own after a multi-line message.
  static func withCommand(_ message: String, _ c: PlannedCase) -> String {
    message + (message.contains("\n") ? "\nrecord it with: " : "; record it with: ") + rerecordCommand(c)
  }

  /// What the cassette on disk offers a case: read once.
  enum Lookup {
    /// It matches the request and replays.
    case replays(Completion)
    /// There is none.
    case missing(String)
    /// It exists but cannot serve (stale or unreadable).
    case stale(String)
  }

  /// Step 1: read the cassette (not in live mode, which never touches cassettes). `previous` is a
  /// readable cassette, kept to compare a new recording with.
  func lookup(_ c: PlannedCase) -> (Lookup, previous: Cassette?) {
    let display = store.displayPath(c)
    if mode == .live { return (.missing("live mode"), nil) }
    switch store.load(c, readAhead: prefetch?.take(c)) {
    case .absent:
      return (.missing("no cassette for \(c.id) (\(display))"), nil)
    case .unreadable(let m):
      return (.stale(m), nil)
    case .found(let cassette):
      if let diff = cassette.mismatch(with: c.request, redacting: redactor) {
        // A conversation names the turn, as its later steps do.
        let at = c.variant.conversation == nil ? "" : "step 1 (turn 1): "
        return (
          .stale(Self.staleMessage(at + diff, display)),
          cassette
        )
      }
      if !cassette.steps.isEmpty, !c.variant.isMultiStep {
        // Recorded as a case of several steps (README "Steps"); this case is one request now.
        let message = "it records \(cassette.steps.count + 1) steps; this case is a single request"
        return (.stale(Self.staleMessage(message, display)), cassette)
      }
      switch cassette.completion() {
      case .success(let completion): return (.replays(completion), cassette)
      case .failure(let e): return (.stale("\(display): \(e.message)"), nil)
      }
    }
  }

  /// Step 2: decide by mode; step 3 (`record`) when the mode records.
  package func fetch(_ c: PlannedCase) async -> FetchResult {
    let display = store.displayPath(c)
    let (found, previous) = lookup(c)
    switch (mode, found) {
    case (.replay, .replays(let completion)), (.auto, .replays(let completion)):
      var f = FetchResult(
        result: .success(completion), attempts: 0, cassette: CassetteReport(path: display, status: .replayed))
      f.onDisk = previous
      return f
    case (.replay, .missing(let message)):
      return FetchResult(
        result: .failure(CallError(.noCassette, Self.withCommand(message, c))), attempts: 0,
        cassette: CassetteReport(path: display, status: .missing))
    case (.replay, .stale(let message)):
      return FetchResult(
        result: .failure(CallError(.staleCassette, Self.withCommand(message, c))),
        attempts: 0,
        cassette: CassetteReport(path: display, status: .stale))
    default:
      break
    }
    guard let client else {
      return FetchResult(
        result: .failure(CallError(.noCassette, "no client to call the API in \(mode.rawValue) mode")), attempts: 0,
        cassette: CassetteReport(path: display, status: .missing))
    }
    var fetched = await fetchLive(c, client: client, found: found, previous: previous)
    fetched.calling = true
    return fetched
  }

  /// Step 2, when the mode calls: the live call, recorded unless the mode is live.
  func fetchLive(_ c: PlannedCase, client: ChatClient, found: Lookup, previous: Cassette?) async -> FetchResult {
    let display = store.displayPath(c)
    var (outcome, completion) = await callLive(c.request, client: client, budget: budget)
    if mode == .auto, case .stale(let why) = found, case .failure(var e) = completion {
      // Say what went stale before why it could not be recorded again (a missing key, a server down…).
      e.message = why + (why.contains("\n") ? "\n" : "; ") + "recording it again failed: " + e.message
      completion = .failure(e)
    }
    guard mode != .live, let outcome, case .success(let exchange) = outcome.result else {
      return FetchResult(
        result: completion, attempts: outcome?.attempts ?? 0,
        cassette: CassetteReport(path: display, status: mode == .live ? .live : .missing))
    }
    return record(c, exchange: exchange, completion: completion, attempts: outcome.attempts, previous: previous)
  }

  /// Step 3: the recording of a successful call, written by `finish` once its judges are known
  /// (not at all when the interaction is unchanged).
  func record(
    _ c: PlannedCase, exchange: Exchange, completion: Result<Completion, CallError>, attempts: Int, previous: Cassette?
  ) -> FetchResult {
    let display = store.displayPath(c)
    let cassette = Cassette(caseID: c.id, recordedAt: Date(), exchange: exchange)
    var notes: [String] = []
    if let previous {
      let drift = zip(previous.backend, cassette.backend).filter { $0.1 != $1.1 && !$0.1.isEmpty }
      if !drift.isEmpty {
        notes.append(
          "backend drifted: "
            + drift.map { "\($0.0) \($0.1) → \($1.1.isEmpty ? "(none)" : $1.1)" }.joined(separator: ", "))
      }
      if previous.sameInteraction(as: cassette) {
        var f = FetchResult(
          result: completion, attempts: attempts, cassette: CassetteReport(path: display, status: .unchanged),
          notes: notes)
        f.onDisk = previous
        return f
      }
    }
    var f = FetchResult(
      result: completion, attempts: attempts, cassette: CassetteReport(path: display, status: .recorded), notes: notes,
      recordedChange: previous.flatMap { Self.answerChange(from: $0, to: completion, display: display) })
    f.onDisk = previous
    f.toRecord = cassette
    return f
  }

  /// Writes the case's cassette when its main call or its judges changed (never in replay or live mode).
  package func finish(_ c: PlannedCase, fetched: inout FetchResult, judges: [Cassette.JudgeRecord]) -> CallError? {
    guard mode != .replay, mode != .live else { return nil }
    var cassette: Cassette
    let display = store.displayPath(c)
    if var new = fetched.toRecord {
      if c.variant.isMultiStep { new.steps = fetched.stepRecords }
      // A looped case recorded again step by step, every step as before: the file stays.
      if let old = fetched.onDisk, c.variant.isMultiStep, old.sameInteraction(as: new),
        Cassette.sameJudges(old.judges, judges)
      {
        fetched.cassette = CassetteReport(path: display, status: .unchanged)
        return nil
      }
      cassette = new
    } else if let old = fetched.onDisk, !Cassette.sameJudges(old.judges, judges) {
      // The main call replayed (or was recorded again unchanged); its judges changed.
      cassette = old
    } else {
      return nil
    }
    cassette.judges = judges
    do {
      let yaml = try cassette.yaml(redacting: redactor)
      let size = yaml.utf8.count
      guard size <= Cassette.maxBytes else {
        fetched.cassette = CassetteReport(path: display, status: .missing)
        return CallError(
          .cassetteNotWritten,
          "the answer was not recorded: its cassette would be \(Self.megabytes(size)), over the limit of \(Self.megabytes(Cassette.maxBytes)) (lower max_tokens, or test this case live)"
        )
      }
      try AtomicFile.write(yaml, to: try store.writablePath(c))
    } catch {
      // A recording that is not on disk must not pass: the next replay would have nothing.
      fetched.cassette = CassetteReport(path: display, status: .missing)
      return CallError(.cassetteNotWritten, "the answer could not be recorded: \(error)")
    }
    fetched.cassette = CassetteReport(path: display, status: .recorded)
    return nil
  }

  /// A grader or embeddings call: replayed from the cassette when it holds it (replay, auto),
  /// else called live (record, auto, live). A grader call is asked in the next verdict format
  /// when the server refuses one.
  package func judge(_ call: JudgeCall, for c: PlannedCase, fetched: FetchResult) async -> Result<
    JudgeAnswer, CallError
  > {
    let requests = call.requests
    guard let first = requests.first else { return .failure(CallError(.badBody, "\(call.label) calls no server")) }
    if mode == .replay || mode == .auto, let onDisk = fetched.onDisk {
      for r in requests {
        let body = redactor(r.body).canonicalized.canonical
        if let found = onDisk.judges.first(where: { $0.answers(path: redactor(r.urlPath), canonicalBody: body) }) {
          if let problem = Cassette.recordedError(status: found.status, body: found.body) {
            return .failure(problem)
          }
          return .success(JudgeAnswer(record: found, replayed: true))
        }
      }
    }
    if mode == .replay {
      let display = store.displayPath(c)
      if let old = fetched.onDisk?.judges.first(where: { $0.assertion == call.label }) {
        let diff =
          Cassette.firstDifference(old.requestBody.canonicalized, redactor(first.body).canonicalized, path: "body")
          ?? "body"
        let message = Self.staleMessage("its judge call differs: " + diff, display)
        return .failure(CallError(.staleCassette, Self.withCommand(message, c)))
      }
      return .failure(CallError(.noCassette, Self.withCommand("its judge call is not recorded in \(display)", c)))
    }
    guard let client else {
      return .failure(CallError(.noCassette, "no client to call the API in \(mode.rawValue) mode"))
    }
    var lastError = CallError(.badBody, "\(call.label) made no call")
    for (i, r) in requests.enumerated() {
      let (outcome, completion) = await callLive(r, client: client, budget: budget)
      if case .failure(let e) = completion {
        lastError = e
        // Refused for its response format: ask in the next one.
        let refused =
          e.kind == .http
          && (e.status.map { (400..<500).contains($0) } ?? false || e.message.contains("response_format"))
        if refused, i < requests.count - 1 { continue }
        return .failure(e)
      }
      guard let outcome, case .success(let exchange) = outcome.result else { continue }
      return .success(
        JudgeAnswer(
          record: Cassette.JudgeRecord(
            assertion: call.label, url: exchange.url, requestBody: exchange.requestBody, status: exchange.status,
            body: exchange.decoded.body, durationMS: Int((exchange.duration * 1000).rounded())),
          replayed: false))
    }
    return .failure(lastError)
  }

  /// The diff from a cassette's answer to a new one, when the answer (not only its ids) changed.
  static func answerChange(from old: Cassette, to new: Result<Completion, CallError>, display: String) -> String? {
    guard case .success(let before) = old.completion(), case .success(let after) = new else { return nil }
    let a = Completion.canonical(content: before.content, toolCalls: before.toolCalls)
    let b = Completion.canonical(content: after.content, toolCalls: after.toolCalls)
    guard a != b else { return nil }
    return UnifiedDiff.diff(
      old: a.withFinalNewline, new: b.withFinalNewline, oldName: "recorded before",
      newName: "recorded now")
  }
}
