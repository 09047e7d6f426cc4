import Foundation
import PromptCheckCore

/// A target's request for one case, rendered (README "Testing your app"): `{{VAR}}` of the
/// case's vars, `{{prompt}}` (the last user message), `{{messages_json}}` (the messages as
/// JSON), `{{session}}` (the case's conversation id) and `{{model_base_url}}` (where the app's
/// own model calls go); `${VAR}` from the environment.
package struct TargetValues: Sendable {
  package var vars: [String: String]
  package var prompt: String
  package var messages: [JSON]
  package var session: String
  package var modelBaseURL: String
  package var environment: [String: String]

  package init(
    vars: [String: String], prompt: String, messages: [JSON], session: String, modelBaseURL: String,
    environment: [String: String]
  ) {
    self.vars = vars
    self.prompt = prompt
    self.messages = messages
    self.session = session
    self.modelBaseURL = modelBaseURL
    self.environment = environment
  }

  /// The case's conversation id: the same in record and replay, its own for each repetition.
  package static func session(for c: PlannedCase) -> String { "pc-" + FNV1a.hex(FNV1a.hash(c.id)) }

  /// A text with its placeholders filled; an unknown `{{name}}` or an unset `${VAR}` is a problem.
  package func render(_ text: String) -> Result<String, TargetError> {
    var out = ""
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      out += rest[..<open.lowerBound]
      guard let close = rest[open.upperBound...].range(of: "}}") else {
        return .failure(TargetError("'{{' is not closed by '}}' in \(Excerpt.start(text))"))
      }
      let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
      switch name {
      case "prompt": out += prompt
      case "messages_json": out += JSON.array(messages).serialized()
      case "session": out += session
      case "model_base_url": out += modelBaseURL
      default:
        guard let v = vars[name] else {
          let known = (["prompt", "messages_json", "session", "model_base_url"] + vars.keys.sorted())
          return .failure(TargetError("unknown variable '\(name)' (known: \(known.joined(separator: ", ")))"))
        }
        out += v
      }
      rest = rest[close.upperBound...]
    }
    out += rest
    return expandEnvironment(out)
  }

  /// `${VAR}` and `${VAR:-default}` from the environment, as in the config's other strings.
  func expandEnvironment(_ text: String) -> Result<String, TargetError> {
    guard text.contains("${") else { return .success(text) }
    let env = environment
    return EnvironmentText.expand(text) { name, fallback in
      env[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
    }.mapError { TargetError($0.message) }
  }

  /// A JSON body with each string rendered; a string that is only `{{messages_json}}` becomes the list.
  package func render(_ json: JSON) -> Result<JSON, TargetError> {
    switch json {
    case .string(let s):
      if s.trimmingCharacters(in: .whitespaces) == "{{messages_json}}" { return .success(.array(messages)) }
      return render(s).map(JSON.string)
    case .array(let items):
      var out: [JSON] = []
      for item in items {
        switch render(item) {
        case .success(let v): out.append(v)
        case .failure(let e): return .failure(e)
        }
      }
      return .success(.array(out))
    case .object(let o):
      var out = JSONObject()
      for (k, v) in o.members {
        switch render(v) {
        case .success(let r): out[k] = r
        case .failure(let e): return .failure(e)
        }
      }
      return .success(.object(out))
    default:
      return .success(json)
    }
  }
}

/// Why a target's case could not be run or read: it errors the case, never a silent answer.
package struct TargetError: Error, Sendable, Equatable {
  package var message: String
  package init(_ message: String) { self.message = message }
}

extension HTTPTarget {
  /// The request for a case (its body as sent, and as JSON for the cassette).
  package func request(_ values: TargetValues, session: AppTarget.Session?) -> Result<
    (HTTPRequest, JSON), TargetError
  > {
    let url: String
    switch values.render(self.url) {
    case .success(let u): url = u
    case .failure(let e): return .failure(TargetError("url: \(e.message)"))
    }
    var headers: [(name: String, value: String)] = []
    for (name, value) in self.headers {
      switch values.render(value) {
      case .success(let v): headers.append((name, v))
      case .failure(let e): return .failure(TargetError("headers.\(name): \(e.message)"))
      }
    }
    var bodyJSON: JSON = .null
    var bytes: [UInt8] = []
    switch body {
    case .none:
      break
    case .text(let t):
      switch values.render(t) {
      case .success(let text):
        bytes = Array(text.utf8)
        bodyJSON = (try? JSON.parse(text)) ?? .string(text)
      case .failure(let e): return .failure(TargetError("body: \(e.message)"))
      }
    case .json(let j):
      switch values.render(j) {
      case .success(var rendered):
        if case .bodyField(let field)? = session, case .object(var o) = rendered {
          o[field] = .string(values.session)
          rendered = .object(o)
        }
        bodyJSON = rendered
        bytes = Array(rendered.serialized().utf8)
      case .failure(let e): return .failure(TargetError("body: \(e.message)"))
      }
    }
    if case .header(let name)? = session { headers.append((name, values.session)) }
    if !bytes.isEmpty, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
      headers.insert(("Content-Type", bodyJSON.stringValue == nil ? "application/json" : "text/plain"), at: 0)
    }
    if streamed { headers.append(("Accept", "text/event-stream")) }
    var r = HTTPRequest(method: method, url: url, headers: headers, body: bytes, timeout: Double(timeoutMS) / 1000)
    r.stallTimeout = Double(timeoutMS) / 1000
    return .success((r, bodyJSON))
  }
}

/// Reads the app's answer text from what it sent back.
package enum TargetAnswer {
  /// `body` as recorded: a JSON value, or the text as a string; `streamed`: an event stream's text.
  package static func text(_ body: JSON, path: JSONPath?, pathText: String?, streamed: Bool) -> Result<
    String, TargetError
  > {
    if streamed, let wire = body.stringValue {
      var out = ""
      for e in ServerSentEvents.parse(wire) where e.data != "[DONE]" {
        guard let path else {
          out += e.data
          continue
        }
        guard let data = try? JSON.parse(e.data) else { continue }
        for node in (try? path.select(data)) ?? [] { out += node.stringValue ?? node.serialized() }
      }
      return .success(out)
    }
    guard let path else { return .success(body.stringValue ?? body.serialized()) }
    var doc = body
    if let s = body.stringValue {
      guard let parsed = try? JSON.parse(s) else {
        return .failure(
          TargetError(
            "the app's answer is not JSON, so it has nothing at \(pathText ?? "?"); it starts \(Excerpt.start(s))"))
      }
      doc = parsed
    }
    let nodes: [JSON]
    do {
      nodes = try path.select(doc)
    } catch {
      return .failure(TargetError("reading \(pathText ?? "?") took too long"))
    }
    guard let first = nodes.first else {
      return .failure(
        TargetError("the app's answer has nothing at \(pathText ?? "?") (response); it is \(Excerpt.json(doc))"))
    }
    return .success(first.stringValue ?? first.serialized())
  }
}
