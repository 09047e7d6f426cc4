import Foundation
import PromptCheckCore

/// `targets:` of the config (README "Testing your app").
extension NodeReader {
  static let targetKeys = ["http", "command", "start", "provider", "env_base_url", "env_api_key", "session"]
  static let httpTargetKeys = ["url", "method", "headers", "body", "response", "stream", "timeout_ms"]
  static let commandTargetKeys = ["run", "stdin", "output", "response", "timeout_ms", "env"]
  static let startKeys = ["run", "ready", "timeout_ms", "env", "cwd"]

  mutating func appTargets(_ node: YAMLNode) -> [AppTarget] {
    guard let pairs = node.mapping else {
      error("targets must be a map of target names, found \(node.kindDescription)", at: node)
      return []
    }
    return pairs.compactMap { p in
      appTarget(p.value, name: p.key.scalar?.text ?? "", what: "targets.\(p.key.scalar?.text ?? "")")
    }
  }

  /// One target: `{http: {…}, start?, …}` or `{command: {…}, …}`.
  mutating func appTarget(_ node: YAMLNode, name: String, what: String) -> AppTarget? {
    guard let m = map(node, what, allowed: Self.targetKeys) else { return nil }
    let kind: AppTarget.Kind
    switch (m["http"], m["command"]) {
    case (let h?, nil):
      guard var http = httpTarget(h, "\(what).http") else { return nil }
      if let s = m["start"] { http.start = appStart(s, "\(what).start") }
      kind = .http(http)
    case (nil, let c?):
      if let s = m["start"] { error("\(what).start applies to an http target (a command runs once per case)", at: s) }
      guard let command = commandTarget(c, "\(what).command") else { return nil }
      kind = .command(command)
    case (_?, _?):
      error("\(what): give either 'http' or 'command', not both", at: node)
      return nil
    case (nil, nil):
      error("\(what) needs 'http' (an endpoint) or 'command' (a program)", at: node)
      return nil
    }
    var target = AppTarget(name: name, kind: kind, location: node.location)
    if let p = m["provider"], let pname = strictString(p, "\(what).provider") {
      if let provider = judgeProviders.first(where: { $0.name == pname }) {
        target.provider = provider
      } else {
        var message = "\(what).provider: unknown provider '\(pname)'"
        if let guess = closestMatch(to: pname, in: judgeProviders.map(\.name)) {
          message += "; did you mean '\(guess)'?"
        }
        error(message, at: p)
      }
    }
    for (key, path) in [("env_base_url", \AppTarget.baseURLEnv), ("env_api_key", \AppTarget.apiKeyEnv)] {
      guard let n = m[key], let v = strictString(n, "\(what).\(key)") else { continue }
      if v.isEmpty || !v.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) {
        error("\(what).\(key) must name an environment variable, found '\(v)'", at: n)
      } else {
        target[keyPath: path] = v
      }
    }
    if let s = m["session"], let sm = map(s, "\(what).session", allowed: ["header", "body"]) {
      if let h = sm["header"], let v = strictString(h, "\(what).session.header") {
        target.session = .header(v)
      } else if let b = sm["body"], let v = strictString(b, "\(what).session.body") {
        target.session = .bodyField(v)
      } else {
        error("\(what).session needs header (a header name) or body (a field of the JSON body)", at: s)
      }
    }
    return target
  }

  mutating func httpTarget(_ node: YAMLNode, _ what: String) -> HTTPTarget? {
    guard let m = map(node, what, allowed: Self.httpTargetKeys) else { return nil }
    guard let u = m["url"], let url = strictString(u, "\(what).url") else {
      if m["url"] == nil { error("\(what) needs a url", at: node) }
      return nil
    }
    if !(url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("{{")) {
      error("\(what).url must start with http:// or https://, found '\(url)'", at: u)
    }
    var t = HTTPTarget(url: url)
    if let v = m["method"], let method = strictString(v, "\(what).method") {
      if ["GET", "POST", "PUT", "PATCH"].contains(method.uppercased()) {
        t.method = method.uppercased()
      } else {
        error("\(what).method must be GET, POST, PUT or PATCH, found '\(method)'", at: v)
      }
    }
    if let h = m["headers"] {
      if let pairs = h.mapping {
        for p in pairs {
          let key = p.key.scalar?.text ?? ""
          if let v = string(p.value, "\(what).headers.\(key)") { t.headers.append((key, v)) }
        }
      } else {
        error("\(what).headers must be a map, found \(h.kindDescription)", at: h)
      }
    }
    if let b = m["body"] {
      if b.scalar != nil {
        t.body = string(b, "\(what).body").map { .text($0) } ?? .none
      } else {
        t.body = .json(json(b))
      }
    }
    (t.response, t.responseText) = responsePath(m["response"], "\(what).response")
    if let s = m["stream"], let v = strictString(s, "\(what).stream") {
      if v == "sse" { t.streamed = true } else { error("\(what).stream must be sse, found '\(v)'", at: s) }
    }
    t.timeoutMS = m["timeout_ms"].flatMap { int($0, "\(what).timeout_ms", min: 1, max: 3_600_000) } ?? t.timeoutMS
    return t
  }

  mutating func commandTarget(_ node: YAMLNode, _ what: String) -> CommandTarget? {
    guard let m = map(node, what, allowed: Self.commandTargetKeys) else { return nil }
    guard let r = m["run"], let (argv, display) = argv(r, "\(what).run") else {
      if m["run"] == nil { error("\(what) needs run (an argument list, or a shell string)", at: node) }
      return nil
    }
    var t = CommandTarget(argv: argv, display: display)
    t.stdin = m["stdin"].flatMap { string($0, "\(what).stdin") }
    if let o = m["output"], let v = strictString(o, "\(what).output") {
      if v == "json" {
        t.json = true
      } else if v != "text" {
        error("\(what).output must be text or json, found '\(v)'", at: o)
      }
    }
    (t.response, t.responseText) = responsePath(m["response"], "\(what).response")
    if t.response != nil, !t.json, let n = m["response"] {
      error("\(what).response reads a JSON output; add 'output: json'", at: n)
    }
    t.timeoutMS = m["timeout_ms"].flatMap { int($0, "\(what).timeout_ms", min: 1, max: 3_600_000) } ?? t.timeoutMS
    t.env = m["env"].map { env($0, "\(what).env") } ?? []
    return t
  }

  mutating func appStart(_ node: YAMLNode, _ what: String) -> AppStart? {
    guard let m = map(node, what, allowed: Self.startKeys) else { return nil }
    guard let r = m["run"], let (argv, display) = argv(r, "\(what).run") else {
      if m["run"] == nil { error("\(what) needs run, the command that starts the app", at: node) }
      return nil
    }
    guard let readyNode = m["ready"], let rm = map(readyNode, "\(what).ready", allowed: ["url", "port"]) else {
      if m["ready"] == nil { error("\(what) needs ready: {url: …} or {port: N}, how to know the app is up", at: node) }
      return nil
    }
    let ready: AppStart.Ready
    if let u = rm["url"], let url = strictString(u, "\(what).ready.url") {
      ready = .url(url)
    } else if let p = rm["port"], let port = int(p, "\(what).ready.port", min: 1, max: 65535) {
      ready = .port(port)
    } else {
      if rm.isEmpty { error("\(what).ready needs url or port", at: readyNode) }
      return nil
    }
    var s = AppStart(argv: argv, display: display, ready: ready)
    s.timeoutMS = m["timeout_ms"].flatMap { int($0, "\(what).timeout_ms", min: 1, max: 600_000) } ?? s.timeoutMS
    s.env = m["env"].map { env($0, "\(what).env") } ?? []
    s.cwd = m["cwd"].flatMap { strictString($0, "\(what).cwd") }
    return s
  }

  /// An argument list, or a shell string run by `/bin/sh -c`.
  mutating func argv(_ node: YAMLNode, _ what: String) -> ([String], String)? {
    if node.scalar != nil {
      return string(node, what).map { (["/bin/sh", "-c", $0], $0) }
    }
    guard let list = stringList(node, what) else { return nil }
    guard !list.isEmpty else {
      error("\(what) is an empty list", at: node)
      return nil
    }
    return (list, list.joined(separator: " "))
  }

  mutating func env(_ node: YAMLNode, _ what: String) -> [(name: String, value: String)] {
    guard let pairs = node.mapping else {
      error("\(what) must be a map, found \(node.kindDescription)", at: node)
      return []
    }
    return pairs.compactMap { p in
      let key = p.key.scalar?.text ?? ""
      return string(p.value, "\(what).\(key)").map { (key, $0) }
    }
  }

  /// `response:`: a JSON path to the answer text.
  mutating func responsePath(_ node: YAMLNode?, _ what: String) -> (JSONPath?, String?) {
    guard let node, let text = strictString(node, what) else { return (nil, nil) }
    do {
      return (try JSONPath(text), text)
    } catch {
      self.error("\(what) is not a JSON path: \(error)", at: node)
      return (nil, nil)
    }
  }
}
