import Foundation
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe
import Synchronization

/// `promptcheck serve`: the reviewed cassettes as an OpenAI-compatible endpoint, for an
/// application's own tests (README "Serving cassettes to your app's tests").
package enum ServeCommandCore {
  package struct Options: Sendable {
    package var host = "127.0.0.1"
    package var port = 8089
    package var mode = RunMode.replay
    package var configPath: String?
    /// Append each new recording as a draft test case to this suite file.
    package var capture: String?
    /// Body size, connections, buffered bodies, client timeouts.
    package var limits = HTTPServer.Limits()
    package init() {}
  }

  /// The running server: stop it to end `serve`.
  package final class Server: Sendable {
    package let http: HTTPServer
    package let index: CassetteIndex
    init(http: HTTPServer, index: CassetteIndex) {
      self.http = http
      self.index = index
    }
    package var port: Int { http.port }
    package func stop() { http.stop() }
  }

  /// Starts serving; nil after printing why it cannot.
  package static func start(_ o: Options, _ ctx: CommandContext) -> Server? {
    if o.mode == .live {
      ctx.report(
        Diagnostic(
          "serve replays (replay), records what it has not seen (auto) or records everything (record); live is not a serve mode",
          at: nil))
      return nil
    }
    if o.mode != .replay && ctx.isCI {
      ctx.report(
        Diagnostic(
          "serve --mode \(o.mode.rawValue) is refused when CI is set: CI replays reviewed cassettes only", at: nil))
      return nil
    }
    guard let config = ProjectLoader.loadConfigOrReport(configPath: o.configPath, ctx) else { return nil }
    let root = config.expectationsDir + "/cassettes"
    let index = CassetteIndex(root: root, absoluteRoot: ctx.absolute(root))
    for p in index.problems { ctx.err("warning: \(p) (not served)\n") }
    var recorder: Recorder?
    if o.mode != .replay {
      guard let provider = config.provider(named: config.defaultProvider) else {
        ctx.report(Diagnostic("no provider to record through; set default_provider in promptcheck.yaml", at: nil))
        return nil
      }
      do {
        recorder = Recorder(
          provider: provider,
          client: ChatClient(
            transport: try CurlTransport(), retry: RetryPolicy(retries: config.run.value(\.retries)),
            timeout: config.run.value(\.timeout), environment: ctx.environment,
            limits: config.run.callLimits),
          project: ctx.project, folder: ctx.absolute(root + "/served"), display: root + "/served",
          redactor: Redactor(
            providers: config.providers, environment: ctx.environment, references: config.urlReferences),
          capture: o.capture.map { ctx.absolute($0) }, log: { ctx.err($0) })
      } catch {
        ctx.report(Diagnostic("libcurl could not be initialised", at: nil))
        return nil
      }
    }
    if o.host != "127.0.0.1" && o.host != "localhost" {
      ctx.err(
        "warning: serving on \(o.host), not only this machine's loopback: anyone who reaches it reads the recorded answers\n"
      )
    }
    let through = recorder
    let http: HTTPServer
    do {
      http = try HTTPServer(
        host: o.host == "localhost" ? "127.0.0.1" : o.host, port: o.port, limits: o.limits, log: { ctx.err($0) }
      ) { request in
        let clock = ContinuousClock()
        let start = clock.now
        let (response, outcome) = handle(request, index: index, mode: o.mode, recorder: through)
        let took = clock.now - start
        // Tenths of a millisecond, without Foundation's formatter on every request.
        let tenths = Int(took.components.seconds) * 10_000 + Int(took.components.attoseconds / 100_000_000_000_000)
        let ms = "\(tenths / 10).\(tenths % 10)"
        ctx.err(
          "\(LogText.escaped(request.method)) \(LogText.escaped(request.path)) \(response.status) \(LogText.escaped(outcome)) \(ms) ms\n"
        )
        return response
      }
    } catch {
      ctx.report(Diagnostic("\(error)", at: nil))
      return nil
    }
    ctx.err(
      "serving \(counted(index.count, "cassette"))\(index.judgeCount > 0 ? " (and \(counted(index.judgeCount, "judge call")))" : "") from \(root) on http://\(o.host):\(http.port)/v1 (mode \(o.mode.rawValue)); Ctrl-C stops\n"
    )
    return Server(http: http, index: index)
  }

  /// One request: the route, the answer and how it was found (for the log line).
  static func handle(_ r: HTTPServer.Request, index: CassetteIndex, mode: RunMode, recorder: Recorder?)
    -> (HTTPServer.Response, String)
  {
    let path = r.path.split(separator: "?").first.map(String.init) ?? r.path
    switch (r.method, path) {
    case ("GET", "/v1/models"), ("GET", "/models"):
      let models = index.models.map {
        JSON.object(JSONObject([("id", .string($0)), ("object", "model"), ("owned_by", "promptcheck")]))
      }
      return (.json(JSON.object(JSONObject([("object", "list"), ("data", .array(models))]))), "models")
    case ("POST", "/v1/embeddings"), ("POST", "/embeddings"):
      return embeddings(r, index: index)
    case ("POST", "/v1/chat/completions"), ("POST", "/chat/completions"):
      break
    default:
      return (
        .json(
          HTTPServer.error(
            "\(r.method) \(path) is not served: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models",
            type: "invalid_request_error", code: "not_found"), status: 404),
        "no route"
      )
    }
    if mode != .record, let hit = index.lookup(bytes: r.body) { return (hit.response, "match \(hit.display)") }
    let fields: JSONObject
    switch requestObject(r, needs: ["model", "messages"], for: "a chat completion") {
    case .failure(let refusal): return refusal.answer
    case .success(let o): fields = o
    }
    let body = JSON.object(fields)
    guard let model = fields["model"]?.stringValue, let messages = fields["messages"]?.arrayValue else {
      return badRequest("a chat completion needs model and messages")
    }
    if mode != .record, let hit = index.lookup(body) {
      index.remember(r.body, hit)
      return (hit.response, "match \(hit.display)")
    }
    if let recorder {
      return recorder.record(body, model: model, messages: messages, index: index)
    }
    return miss(
      body, .chat, index, "no cassette matches this request",
      hint: "record it with `promptcheck serve --mode auto` (or a suite case and `promptcheck run --mode record`)")
  }

  /// Why a request is refused before it is looked up.
  struct Refusal: Error {
    var answer: (HTTPServer.Response, String)
  }

  static func badRequest(_ message: String) -> (HTTPServer.Response, String) {
    (.json(HTTPServer.error(message, type: "invalid_request_error"), status: 400), "bad body")
  }

  /// The body as a JSON object holding `required`; else the 400 that says what is wrong.
  static func requestObject(_ r: HTTPServer.Request, needs required: [String], for what: String) -> Result<
    JSONObject, Refusal
  > {
    let body: JSON
    do {
      body = try JSON.parse(bytes: r.body)
    } catch {
      return .failure(Refusal(answer: badRequest("the body is not JSON: \(error.description)")))
    }
    guard case .object(let fields) = body, required.allSatisfy({ fields[$0] != nil }) else {
      return .failure(
        Refusal(answer: badRequest("\(what) needs \(required.joined(separator: " and "))")))
    }
    return .success(fields)
  }

  /// A 404 whose message names the closest recorded call and where it differs.
  static func miss(
    _ body: JSON, _ endpoint: CassetteIndex.Endpoint, _ index: CassetteIndex, _ message: String, hint: String
  ) -> (HTTPServer.Response, String) {
    var text = message
    if let (display, difference) = index.closest(body, endpoint) {
      text += "; the closest is \(display), which differs at \(difference)"
    }
    text += "; " + hint
    return (
      .json(HTTPServer.error(text, type: "invalid_request_error", code: "cassette_not_found"), status: 404), "miss"
    )
  }

  /// `POST /v1/embeddings` from the embeddings calls that `similar` assertions recorded: a list
  /// `input` is answered text by text (each recorded on its own), in the format asked
  /// (`encoding_format: base64` gives little-endian float32, as OpenAI's SDKs ask by default).
  static func embeddings(_ r: HTTPServer.Request, index: CassetteIndex) -> (HTTPServer.Response, String) {
    let fields: JSONObject
    switch requestObject(r, needs: ["model", "input"], for: "an embeddings request") {
    case .failure(let refusal): return refusal.answer
    case .success(let o): fields = o
    }
    let body = JSON.object(fields)
    guard fields["model"]?.stringValue != nil, let input = fields["input"] else {
      return badRequest("an embeddings request needs model and input")
    }
    let base64 = fields["encoding_format"]?.stringValue == "base64"
    if let hit = index.lookup(body, .embeddings) {
      return (base64 ? encodedBase64(hit.answer, status: hit.response.status) : hit.response, "match \(hit.display)")
    }
    // A list: each text as its own recorded call.
    var data: [JSON] = []
    var prompt = 0
    var found: [String] = []
    var first = body
    if let texts = input.arrayValue, !texts.isEmpty, texts.allSatisfy({ $0.stringValue != nil }) {
      for (i, text) in texts.enumerated() {
        var one = fields
        one["input"] = text
        if i == 0 { first = .object(one) }
        guard let hit = index.lookup(.object(one), .embeddings), hit.response.status == 200,
          let item = hit.answer["data"]?.arrayValue?.first, case .object(var o) = item
        else {
          data = []
          break
        }
        o["index"] = .int(i)
        data.append(.object(o))
        if case .int(let n)? = hit.answer["usage"]?["prompt_tokens"] { prompt += n }
        found.append(hit.display)
      }
      if data.count == texts.count {
        var answer = JSONObject([("object", "list"), ("data", .array(data))])
        answer["model"] = fields["model"]
        answer["usage"] = ["prompt_tokens": .int(prompt), "total_tokens": .int(prompt)]
        let response = base64 ? encodedBase64(.object(answer), status: 200) : .json(.object(answer))
        return (response, "match \(found.count) recorded texts")
      }
    }
    return miss(
      first, .embeddings, index, "no recorded embeddings call matches this request",
      hint: "embeddings are recorded by `similar` assertions (`promptcheck run --mode record`)")
  }

  /// An embeddings answer with each flat vector as base64 of little-endian float32.
  static func encodedBase64(_ answer: JSON, status: Int) -> HTTPServer.Response {
    guard case .object(var o) = answer, let items = o["data"]?.arrayValue else {
      return .json(answer, status: status)
    }
    o["data"] = .array(
      items.map { item in
        guard case .object(var e) = item, let numbers = e["embedding"]?.arrayValue,
          numbers.allSatisfy({ $0.numberValue != nil })
        else { return item }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(numbers.count * 4)
        for n in numbers {
          let bits = Float(n.numberValue ?? 0).bitPattern.littleEndian
          withUnsafeBytes(of: bits) { bytes += $0 }
        }
        e["embedding"] = .string(Data(bytes).base64EncodedString())
        return .object(e)
      })
    return .json(.object(o), status: status)
  }

  /// Record-through: a miss goes to the configured provider; the answer is saved as a cassette
  /// under `served/` (and, with `--capture`, as a draft test case), then returned.
  final class Recorder: Sendable {
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

    init(
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
          if relayed.withLock({ $0 }) != nil {
            relay.send(.piece(clean.finish()))
            relay.send(.end)
          } else {
            relay.send(.whole(response))
          }
          self.log("\(note) (streamed as it arrived)\n")
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
}
