import Foundation
import PromptCheckCore
import PromptCheckExecute
import Synchronization

/// `serve`'s answers (README "Serving cassettes to your app's tests"): each request routed,
/// answered from the cassettes, or recorded through on a miss when the mode records.
package enum ServeHandler {
  /// One request: the route, the answer and how it was found (for the log line).
  package static func handle(_ r: HTTPServer.Request, index: CassetteIndex, mode: RunMode, recorder: ServeRecorder?)
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
  struct RefusalError: Error {
    var answer: (HTTPServer.Response, String)
  }

  static func badRequest(_ message: String) -> (HTTPServer.Response, String) {
    (.json(HTTPServer.error(message, type: "invalid_request_error"), status: 400), "bad body")
  }

  /// The body as a JSON object holding `required`; else the 400 that says what is wrong.
  static func requestObject(_ r: HTTPServer.Request, needs required: [String], for what: String) -> Result<
    JSONObject, RefusalError
  > {
    let body: JSON
    do {
      body = try JSON.parse(bytes: r.body)
    } catch {
      return .failure(RefusalError(answer: badRequest("the body is not JSON: \(error.description)")))
    }
    guard case .object(let fields) = body, required.allSatisfy({ fields[$0] != nil }) else {
      return .failure(
        RefusalError(answer: badRequest("\(what) needs \(required.joined(separator: " and "))")))
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
}
