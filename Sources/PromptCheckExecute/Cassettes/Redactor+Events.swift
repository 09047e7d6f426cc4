import PromptCheckCore

extension Redactor {
  /// A stream's events with every secret removed, also one that the server split across
  /// events (`"sk-te"` in one delta, `"st-…"` in the next): each event's data is redacted as
  /// text, then the strings at the same place of every event's JSON (`choices.0.delta.content`…)
  /// are read as one text, and where a secret spans pieces, its first piece holds the mark and
  /// the others lose their part of it. Only the events that changed are written anew.
  package func events(_ events: [ServerSentEvent]) -> [ServerSentEvent] {
    guard !isEmpty else { return events }
    var out = events.map { e -> ServerSentEvent in
      var e = e
      e.data = self(e.data)
      e.event = e.event.map { self($0) }
      e.id = e.id.map { self($0) }
      return e
    }
    // The string leaves of each event's JSON, by their place.
    struct Piece {
      var event: Int
      var path: [String]
      var bytes: [UInt8]
    }
    var parsed: [Int: JSON] = [:]
    var byPlace: [String: [Piece]] = [:]
    var order: [String] = []
    func leaves(_ value: JSON, _ path: [String], _ event: Int) {
      switch value {
      case .string(let s):
        let key = path.joined(separator: "\u{1}")
        if byPlace[key] == nil { order.append(key) }
        byPlace[key, default: []].append(Piece(event: event, path: path, bytes: Array(s.utf8)))
      case .array(let a): for (i, v) in a.enumerated() { leaves(v, path + [String(i)], event) }
      case .object(let o): for m in o.members { leaves(m.value, path + [m.key], event) }
      default: break
      }
    }
    for (i, e) in out.enumerated() where e.data.first == "{" {
      guard let json = try? JSON.parse(e.data) else { continue }
      parsed[i] = json
      leaves(json, [], i)
    }
    var edits: [Int: [([String], String)]] = [:]
    for key in order {
      guard var pieces = byPlace[key], pieces.count > 1 else { continue }
      var changed = Set<Int>()
      for secret in entries {
        let whole = pieces.flatMap(\.bytes)
        let found = Self.occurrences(of: secret.bytes, in: whole)
        if found.isEmpty { continue }
        // Where each piece starts in the whole.
        var starts: [Int] = []
        var offset = 0
        for p in pieces {
          starts.append(offset)
          offset += p.bytes.count
        }
        // From the last occurrence back, so earlier offsets stay valid.
        for r in found.reversed() {
          for (k, start) in starts.enumerated().reversed() {
            let end = start + pieces[k].bytes.count
            let lo = max(r.lowerBound, start)
            let hi = min(r.upperBound, end)
            guard lo < hi else { continue }
            let first = r.lowerBound >= start && r.lowerBound < end
            pieces[k].bytes.replaceSubrange(
              (lo - start)..<(hi - start), with: first ? Array(secret.replacement.utf8) : [])
            changed.insert(k)
          }
        }
      }
      for k in changed {
        edits[pieces[k].event, default: []].append((pieces[k].path, String(decoding: pieces[k].bytes, as: UTF8.self)))
      }
    }
    for (i, list) in edits {
      guard var json = parsed[i] else { continue }
      for (path, text) in list { json = Self.setting(json, path[...], to: .string(text)) }
      out[i].data = json.serialized()
    }
    return out
  }

  static func setting(_ value: JSON, _ path: ArraySlice<String>, to leaf: JSON) -> JSON {
    guard let head = path.first else { return leaf }
    switch value {
    case .array(var a):
      guard let i = Int(head), a.indices.contains(i) else { return value }
      a[i] = setting(a[i], path.dropFirst(), to: leaf)
      return .array(a)
    case .object(var o):
      guard let v = o[head] else { return value }
      o[head] = setting(v, path.dropFirst(), to: leaf)
      return .object(o)
    default:
      return value
    }
  }
}
