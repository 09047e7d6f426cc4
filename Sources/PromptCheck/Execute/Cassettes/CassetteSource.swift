import Foundation

/// Where cassettes live: `expectations/cassettes/SUITE/CASE.yaml`.
package struct CassetteStore: Sendable {
  /// As the user names it (e.g. `expectations/cassettes`), for messages.
  package var root: String
  /// Absolute, for I/O.
  package var absoluteRoot: String

  package init(root: String, absoluteRoot: String) {
    self.root = root
    self.absoluteRoot = absoluteRoot
  }

  package func relativePath(_ c: PlannedCase) -> String { "\(c.suite)/\(c.fileStem).yaml" }
  package func displayPath(_ c: PlannedCase) -> String { root + "/" + relativePath(c) }
  package func absolutePath(_ c: PlannedCase) -> String { absoluteRoot + "/" + relativePath(c) }

  package enum Lookup {
    case absent
    case unreadable(String)
    case found(Cassette)
  }

  package func load(_ c: PlannedCase) -> Lookup {
    guard let data = FileManager.default.contents(atPath: absolutePath(c)) else { return .absent }
    do {
      return .found(try Cassette.parse(String(decoding: data, as: UTF8.self), file: displayPath(c)))
    } catch {
      return .unreadable(error.message)
    }
  }

  /// Every cassette file under the root, relative to it (for orphan detection).
  package func allFiles() -> [String] {
    guard let e = FileManager.default.enumerator(atPath: absoluteRoot) else { return [] }
    var out: [String] = []
    while let f = e.nextObject() as? String {
      if f.hasSuffix(".yaml") { out.append(f) }
    }
    return out.sorted()
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
    switch store.load(c) {
    case .absent:
      return (.missing("no cassette for \(c.id) (\(display))"), nil)
    case .unreadable(let m):
      return (.stale(m), nil)
    case .found(let cassette):
      if let diff = cassette.mismatch(with: c.request, redacting: redactor) {
        return (
          .stale(
            diff.contains("\n") ? "cassette \(display) is stale: \(diff)" : "cassette is stale: \(diff) (\(display))"),
          cassette
        )
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
      return FetchResult(
        result: .success(completion), attempts: 0, cassette: CassetteReport(path: display, status: .replayed))
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
    var (outcome, completion) = await callLive(c, client: client, budget: budget)
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

  /// Step 3: write the cassette of a successful call (unless the interaction is unchanged).
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
        return FetchResult(
          result: completion, attempts: attempts, cassette: CassetteReport(path: display, status: .unchanged),
          notes: notes)
      }
    }
    do {
      let yaml = try cassette.yaml(redacting: redactor)
      let size = yaml.utf8.count
      guard size <= Cassette.maxBytes else {
        return FetchResult(
          result: .failure(
            CallError(
              .cassetteNotWritten,
              "the answer was not recorded: its cassette would be \(Self.megabytes(size)), over the limit of \(Self.megabytes(Cassette.maxBytes)) (lower max_tokens, or test this case live)"
            )), attempts: attempts, cassette: CassetteReport(path: display, status: .missing), notes: notes)
      }
      try AtomicFile.write(yaml, to: store.absolutePath(c))
    } catch {
      // A recording that is not on disk must not pass: the next replay would have nothing.
      return FetchResult(
        result: .failure(CallError(.cassetteNotWritten, "the answer could not be recorded: \(error)")),
        attempts: attempts,
        cassette: CassetteReport(path: display, status: .missing), notes: notes)
    }
    return FetchResult(
      result: completion, attempts: attempts, cassette: CassetteReport(path: display, status: .recorded), notes: notes,
      recordedChange: previous.flatMap { Self.answerChange(from: $0, to: completion, display: display) })
  }

  /// The diff from a cassette's answer to a new one, when the answer (not only its ids) changed.
  static func answerChange(from old: Cassette, to new: Result<Completion, CallError>, display: String) -> String? {
    guard case .success(let before) = old.completion(), case .success(let after) = new else { return nil }
    let a = Answer.canonical(content: before.content, toolCalls: before.toolCalls)
    let b = Answer.canonical(content: after.content, toolCalls: after.toolCalls)
    guard a != b else { return nil }
    return UnifiedDiff.diff(
      old: GoldenStore.withFinalNewline(a), new: GoldenStore.withFinalNewline(b), oldName: "recorded before",
      newName: "recorded now")
  }
}
