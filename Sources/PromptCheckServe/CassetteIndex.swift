import Foundation
import PromptCheckCore
import PromptCheckExecute
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Every recorded call under a folder — each cassette's main call and its judge calls — by
/// the endpoint and the request it answers: the canonical JSON of its request body without
/// `stream_options` (which `run` adds to streamed requests and SDKs do not send) and
/// `encoding_format` (an embeddings answer is served in the format asked). Built at start and
/// again when a request misses and the folder has changed.
package final class CassetteIndex: Sendable {
  package enum Endpoint: String, Sendable {
    case chat, embeddings

    init(url: String) { self = URLParts.path(of: url).hasSuffix("/embeddings") ? .embeddings : .chat }
  }

  package struct Entry: Sendable {
    /// As shown to people: `expectations/cassettes/s/x.yaml` (with `judges[1]` for a judge call).
    package var display: String
    package var endpoint: Endpoint
    /// A judge call recorded beside a case's own call (`judges:`).
    package var isJudgeCall: Bool
    /// A looped case's later model call (`steps:`), answered as its first is.
    package var isStep = false
    package var requestBody: JSON
    /// The answer's body (`model` is listed by `/v1/models`).
    package var answer: JSON
    /// The answer as served, made once when the index is built.
    package var response: HTTPServer.Response
  }

  let root: String
  let absoluteRoot: String
  private let state = Mutex(State())

  private struct State {
    /// Request bodies seen before, byte for byte: an app's tests send the same few again and again.
    var byBytes: [[UInt8]: Entry] = [:]
    var entries: [String: Entry] = [:]
    var all: [Entry] = []
    var stamp = ""
    var problems: [String] = []
  }

  package init(root: String, absoluteRoot: String) {
    self.root = root
    self.absoluteRoot = absoluteRoot
    rebuild()
  }

  /// Cassette files served, and the judge calls they hold.
  package var count: Int { state.withLock { s in s.all.count { !$0.isJudgeCall && !$0.isStep } } }
  package var stepCount: Int { state.withLock { s in s.all.count(where: \.isStep) } }
  package var judgeCount: Int { state.withLock { s in s.all.count(where: \.isJudgeCall) } }
  package var problems: [String] { state.withLock { $0.problems } }
  package var models: [String] {
    Array(Set(state.withLock { $0.all }.compactMap { $0.answer["model"]?.stringValue })).sorted()
  }

  /// The key of a request body.
  package static func key(_ body: JSON, _ endpoint: Endpoint = .chat) -> String {
    endpoint.rawValue + "\u{0}" + matched(body).canonical
  }

  /// The part of a request body that is matched: all of it but `stream_options` and `encoding_format`.
  package static func matched(_ body: JSON) -> JSON {
    guard case .object(var o) = body else { return body }
    o["stream_options"] = nil
    o["encoding_format"] = nil
    return .object(o)
  }

  /// The files and their modification times: a new recording changes it.
  func currentStamp() -> String {
    Self.stamp(absoluteRoot, FileSystem.files(under: absoluteRoot, suffix: ".yaml"))
  }

  static func stamp(_ root: String, _ files: [String]) -> String {
    files.map { f in
      var info = stat()
      guard stat(root + "/" + f, &info) == 0 else { return f + "@?" }
      return f + "@\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }.joined(separator: "\n")
  }

  package func rebuild() {
    var entries: [String: Entry] = [:]
    var all: [Entry] = []
    var problems: [String] = []
    // Listed once: the same list makes the stamp and the index.
    let files = FileSystem.files(under: absoluteRoot, suffix: ".yaml")
    let stamp = Self.stamp(absoluteRoot, files)
    for f in files {
      guard let data = FileSystem.read(absoluteRoot + "/" + f) else { continue }
      let display = root + "/" + f
      do {
        let c = try Cassette.parse(bytes: data, file: display)
        var found = [
          Entry(
            display: display, endpoint: .chat, isJudgeCall: false, requestBody: c.requestBody, answer: c.body,
            response: HTTPServer.Response(replaying: c))
        ]
        for (i, j) in c.judges.enumerated() {
          found.append(
            Entry(
              display: display + " judges[\(i)]", endpoint: Endpoint(url: j.url), isJudgeCall: true,
              requestBody: j.requestBody, answer: j.body, response: .json(j.body, status: j.status)))
        }
        // A looped case's later model calls: an app that runs its own agent loop sends them too.
        for (k, step) in c.steps.enumerated() where step.kind == .model {
          guard let request = step.request["body"], let answer = step.response["body"] else { continue }
          var status = 200
          if case .int(let recorded)? = step.response["status"] { status = recorded }
          let streamed = request["stream"] == .bool(true) && status == 200
          var entry = Entry(
            display: display + " step \(k + 2)", endpoint: .chat, isJudgeCall: false, requestBody: request,
            answer: answer, response: streamed ? .streamed(answer) : .json(answer, status: status))
          entry.isStep = true
          found.append(entry)
        }
        for entry in found {
          // The first recording of a request wins (judge calls repeat across a suite's cases).
          let key = Self.key(entry.requestBody, entry.endpoint)
          if entries[key] == nil { entries[key] = entry }
          all.append(entry)
        }
      } catch {
        problems.append(error.message)
      }
    }
    state.withLock {
      $0.byBytes = [:]
      $0.entries = entries
      $0.all = all.sorted { $0.display < $1.display }
      $0.stamp = stamp
      $0.problems = problems
    }
  }

  /// The cassette that answered these exact bytes before (no parsing).
  package func lookup(bytes: [UInt8]) -> Entry? { state.withLock { $0.byBytes[bytes] } }

  /// Remembers the bytes of a request that matched (at most 10,000 of them).
  package func remember(_ bytes: [UInt8], _ entry: Entry) {
    state.withLock { s in
      if s.byBytes.count >= 10_000 { s.byBytes.removeAll(keepingCapacity: true) }
      s.byBytes[bytes] = entry
    }
  }

  /// The cassette that answers this body, looking again when the folder has changed.
  package func lookup(_ body: JSON, _ endpoint: Endpoint = .chat) -> Entry? {
    let key = Self.key(body, endpoint)
    if let hit = state.withLock({ $0.entries[key] }) { return hit }
    let changed = state.withLock { $0.stamp } != currentStamp()
    guard changed else { return nil }
    rebuild()
    return state.withLock { $0.entries[key] }
  }

  /// For a miss: the most similar cassette and the first field in which it differs.
  package func closest(_ body: JSON, _ endpoint: Endpoint = .chat) -> (display: String, difference: String)? {
    let all = state.withLock { $0.all }.filter { $0.endpoint == endpoint }
    guard case .object(let o) = Self.matched(body) else { return nil }
    let now = JSON.object(o).canonicalized
    func score(_ e: Entry) -> Int {
      guard case .object(let r) = Self.matched(e.requestBody) else { return 0 }
      var s = 0
      for m in r.members where o[m.key] == m.value { s += 10 }
      if r["model"] == o["model"] { s += 5 }
      let a = r["messages"]?.arrayValue ?? []
      let b = o["messages"]?.arrayValue ?? []
      s += zip(a, b).prefix { $0 == $1 }.count
      return s
    }
    // Each cassette scored once; the first of equal scores wins, as before.
    var best: (entry: Entry, score: Int)?
    for e in all {
      let s = score(e)
      if best == nil || s > (best?.score ?? 0) { best = (e, s) }
    }
    guard let best = best?.entry, case .object = best.requestBody else { return nil }
    let recorded = Self.matched(best.requestBody).canonicalized
    let difference = Cassette.firstDifference(recorded, now, path: "body") ?? "body"
    return (best.display, difference)
  }
}

extension HTTPServer.Response {
  /// A completion body sent as the event stream a streamed request expects: one chunk with the
  /// whole message as its delta, one with the finish reason and usage, then `[DONE]` (a later
  /// step of a looped case is recorded as its assembled body).
  package static func streamed(_ body: JSON) -> Self {
    let choice = body["choices"]?.arrayValue?.first
    var delta = JSONObject()
    delta["role"] = "assistant"
    if let content = choice?["message"]?["content"], content != .null { delta["content"] = content }
    if let calls = choice?["message"]?["tool_calls"]?.arrayValue, !calls.isEmpty {
      delta["tool_calls"] = .array(
        calls.enumerated().map { k, call in
          guard case .object(var o) = call else { return call }
          o["index"] = .int(k)
          return .object(o)
        })
    }
    func chunk(_ choice: JSON, usage: JSON? = nil) -> String {
      var o = JSONObject()
      for key in ["id", "created", "model", "provider", "system_fingerprint"] {
        if let v = body[key] { o[key] = v }
      }
      o["object"] = "chat.completion.chunk"
      o["choices"] = [choice]
      if let usage { o["usage"] = usage }
      return "data: " + JSON.object(o).serialized() + "\n\n"
    }
    let first = chunk(["index": 0, "delta": .object(delta), "finish_reason": .null])
    let last = chunk(
      ["index": 0, "delta": [:], "finish_reason": choice?["finish_reason"] ?? .null], usage: body["usage"])
    return Self(
      status: 200, headers: [("Content-Type", "text/event-stream")],
      body: Array((first + last + "data: [DONE]\n\n").utf8))
  }

  /// A recorded answer as the server sent it: the JSON body, or the stream's events in order.
  package init(replaying c: Cassette) {
    if let events = c.events {
      let text = events.map(\.wire).joined()
      self.init(status: c.status, headers: [("Content-Type", "text/event-stream")], body: Array(text.utf8))
      return
    }
    let type = c.responseHeaders.first { $0.name.lowercased() == "content-type" }?.value ?? "application/json"
    self.init(status: c.status, headers: [("Content-Type", type)], body: Array(c.body.serialized().utf8))
  }
}
