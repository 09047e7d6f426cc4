import Foundation
import PromptCheckCore
import PromptCheckExecute
import Synchronization

/// Record-through: a miss goes to the configured provider; the answer is saved as a cassette
/// under `served/` (and, with `--capture`, as a draft test case), then returned.
package final class ServeRecorder: Sendable {
  let provider: Provider
  let client: ChatClient
  let project: ProjectRoot
  let folder: String
  let display: String
  let redactor: Redactor
  let capture: String?
  /// Says how a relayed recording ended (its request's log line was written when it began).
  let log: @Sendable (String) -> Void
  private let writing = Mutex(())

  package init(
    provider: Provider, client: ChatClient, project: ProjectRoot, folder: String, display: String,
    redactor: Redactor, capture: String?, log: @escaping @Sendable (String) -> Void
  ) {
    self.provider = provider
    self.client = client
    self.project = project
    self.folder = folder
    self.display = display
    self.redactor = redactor
    self.capture = capture
    self.log = log
  }

  /// `body` is a chat completion request whose `model` and `messages` the caller has read.
  /// A streamed request is passed on to the client as the provider sends it, then recorded.
  func record(_ body: JSON, model: String, messages: [JSON], index: CassetteIndex) -> (HTTPServer.Response, String) {
    var o = body.objectValue ?? JSONObject()
    o["model"] = nil
    o["messages"] = nil
    let request = ChatRequest(provider: provider, model: model, messages: messages, params: o)
    if request.isStream {
      let relay = HTTPServer.Relay()
      // The first transfer that answers 2xx is relayed; a retry's pieces are not mixed in.
      let relayed = Mutex<UInt64?>(nil)
      // A key the provider echoes never reaches the app, even split across pieces.
      let clean = RedactingStream(redactor)
      let onData: @Sendable (HTTPRequest.BodyPiece) -> Void = { piece in
        guard (200..<300).contains(piece.status) else { return }
        let first: Bool? = relayed.withLock { t in
          if t == nil {
            t = piece.transfer
            return true
          }
          return t == piece.transfer ? false : nil
        }
        guard let first else { return }
        if first { relay.send(.head(status: piece.status, headers: [("Content-Type", "text/event-stream")])) }
        relay.send(.piece(clean.push(piece.bytes)))
      }
      Task {
        let outcome = await client.call(request, onData: onData)
        let (response, note) = self.finish(outcome, body: body, index: index)
        // Logged before the answer ends: a client that has its whole answer finds the log line.
        self.log("\(note) (streamed as it arrived)\n")
        if relayed.withLock({ $0 }) != nil {
          relay.send(.piece(clean.finish()))
          relay.send(.end)
        } else {
          relay.send(.whole(response))
        }
      }
      return (.relayed(relay), "recording")
    }
    // The HTTP server's thread waits for the async client.
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<CallOutcome?>(nil)
    Task {
      let outcome = await client.call(request)
      result.withLock { $0 = outcome }
      done.signal()
    }
    done.wait()
    guard let outcome = result.withLock({ $0 }) else {
      return (.json(HTTPServer.error("no answer", type: "api_error"), status: 502), "error")
    }
    return finish(outcome, body: body, index: index)
  }

  /// Writes the cassette (and the draft) of a finished call; the answer to send and what to log.
  func finish(_ outcome: CallOutcome, body: JSON, index: CassetteIndex) -> (HTTPServer.Response, String) {
    switch outcome.result {
    case .failure(let e):
      return (
        .json(HTTPServer.error("recording failed: \(redactor(e.message))", type: "api_error"), status: 502),
        "record failed"
      )
    case .success(let exchange):
      let name = FNV1a.hex(FNV1a.hash(CassetteIndex.matched(body).canonical))
      // What the app is answered is what the cassette holds: no secret the provider echoed.
      let cassette = Cassette(caseID: "served/\(name)", recordedAt: Date(), exchange: exchange).redacted(redactor)
      do {
        try writing.withLock { _ in
          try AtomicFile.write(
            try cassette.yaml(redacting: redactor), to: try project.path(folder + "/\(name).yaml"))
          if let capture { try appendDraft(name: name, body: body, to: capture) }
        }
      } catch {
        return (
          .json(HTTPServer.error("the answer could not be recorded: \(error)", type: "api_error"), status: 500),
          "record failed"
        )
      }
      index.rebuild()
      return (HTTPServer.Response(replaying: cassette), "recorded \(display)/\(name).yaml")
    }
  }

  /// Appends `- name: …, messages, params, model, golden: true` to a suite file (made when missing).
  func appendDraft(name: String, body: JSON, to path: String) throws {
    guard case .object(var o) = body else { return }
    var test = JSONObject([("name", .string("served \(name)"))])
    test["model"] = o["model"]
    test["messages"] = o["messages"]
    o["model"] = nil
    o["messages"] = nil
    o["stream_options"] = nil
    if !o.members.isEmpty { test["params"] = .object(o) }
    test["golden"] = true
    let yaml = try YAMLEmitter.emit(redactor(.object(test)))
    let item = "  - " + yaml.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n    ")
    let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    let text =
      (existing ?? "# Drafts captured by promptcheck serve --capture: review, rename, add assertions.\ntests:\n")
      + item.trimmingCharacters(in: .whitespaces.union(.newlines)).replacingOccurrences(of: "\n    \n", with: "\n")
      + "\n"
    try AtomicFile.write(
      text.replacingOccurrences(of: "tests:\n- ", with: "tests:\n  - "), to: try project.path(path))
  }
}
