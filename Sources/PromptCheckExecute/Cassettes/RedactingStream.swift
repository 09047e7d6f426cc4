import PromptCheckCore
import Synchronization

/// Redacts a stream of server-sent events passed on as it arrives (`serve --mode auto` relaying
/// a streamed answer). Bytes are passed on a whole event at a time; an event is held back while
/// the text at some place of its JSON (`choices.0.delta.content`…), read on from the events
/// before it, ends in what may be the start of a secret — so a key the provider split across
/// events (`"sk-te"`, then `"st-…"`) is found as `Redactor.events` finds it in the cassette, and
/// its first piece carries the mark. Events that no secret touched go on byte for byte.
///
/// At most `maxHeldEvents` are held (a secret is split into at most as many events as it has
/// bytes); past that, the oldest go on.
package final class RedactingStream: Sendable {
  private struct State {
    /// Bytes of an event not yet ended.
    var partial: [UInt8] = []
    /// Whole events held back, as they came.
    var held: [[UInt8]] = []
  }

  private let redactor: Redactor
  private let state = Mutex(State())
  let maxHeldEvents: Int

  package init(_ redactor: Redactor) {
    self.redactor = redactor
    maxHeldEvents = 2 * (redactor.entries.map(\.bytes.count).max() ?? 0) + 2
  }

  /// The bytes that may be sent now.
  package func push(_ bytes: [UInt8]) -> [UInt8] {
    guard !redactor.isEmpty else { return bytes }
    return state.withLock { s in
      s.partial += bytes
      while let end = Self.eventEnd(s.partial) {
        s.held.append(Array(s.partial[..<end]))
        s.partial.removeFirst(end)
      }
      return release(&s, all: false)
    }
  }

  /// Everything held back, redacted (the stream ended).
  package func finish() -> [UInt8] {
    guard !redactor.isEmpty else { return [] }
    return state.withLock { s in
      if !s.partial.isEmpty {
        s.held.append(s.partial)
        s.partial = []
      }
      return release(&s, all: true)
    }
  }

  /// Sends the held events that no longer may hold the start of a secret (all of them when
  /// `all`), redacted across one another.
  private func release(_ s: inout State, all: Bool) -> [UInt8] {
    guard !s.held.isEmpty else { return [] }
    let raw = s.held.map { String(decoding: $0, as: UTF8.self) }
    // One parsed event per block (a comment-only block has none: it is passed on as text).
    let found = raw.enumerated().compactMap { i, text in ServerSentEvents.parse(text).first.map { (i, $0) } }
    let present = found.map(\.0)
    let cleaned = redactor.events(found.map(\.1))
    var redacted = raw.map { redactor($0) }
    for (k, (i, event)) in found.enumerated() where cleaned[k] != redactedFields(event) {
      redacted[i] = cleaned[k].wire
    }
    // Held from the first event that may start a secret, and at most `maxHeldEvents`.
    let cut = all ? s.held.count : max(min(firstHeld(cleaned, present), s.held.count), s.held.count - maxHeldEvents)
    let out = redacted[..<cut].flatMap { Array($0.utf8) }
    s.held.removeFirst(cut)
    return out
  }

  /// An event with each field redacted as text (what `Redactor.events` does before it looks across events).
  private func redactedFields(_ e: ServerSentEvent) -> ServerSentEvent {
    var e = e
    e.data = redactor(e.data)
    e.event = e.event.map { redactor($0) }
    e.id = e.id.map { redactor($0) }
    return e
  }

  /// The position (among all held blocks) of the first event from which the text at some JSON
  /// place may be the start of a secret; the blocks before it may go.
  private func firstHeld(_ events: [ServerSentEvent], _ positions: [Int]) -> Int {
    var texts: [String: [(block: Int, bytes: [UInt8])]] = [:]
    for (k, e) in events.enumerated() where e.data.first == "{" {
      guard let json = try? JSON.parse(e.data) else { continue }
      Self.leaves(json, "") { place, text in texts[place, default: []].append((positions[k], Array(text.utf8))) }
    }
    var first = Int.max
    for pieces in texts.values {
      let whole = pieces.flatMap(\.bytes)
      let tail = redactor.heldTail(whole, within: whole.count)
      guard tail < whole.count else { continue }
      // The block whose text holds byte `tail`.
      var offset = 0
      for p in pieces {
        if tail < offset + p.bytes.count || p.bytes.isEmpty && tail == offset {
          first = min(first, p.block)
          break
        }
        offset += p.bytes.count
      }
    }
    return first
  }

  static func leaves(_ value: JSON, _ place: String, _ visit: (String, String) -> Void) {
    switch value {
    case .string(let s): visit(place, s)
    case .array(let a): for (i, v) in a.enumerated() { leaves(v, place + "\u{1}" + String(i), visit) }
    case .object(let o): for m in o.members { leaves(m.value, place + "\u{1}" + m.key, visit) }
    default: break
    }
  }

  /// Where the first event of `bytes` ends (after its blank line: LF LF, CR LF CR LF or CR CR).
  static func eventEnd(_ bytes: [UInt8]) -> Int? {
    var i = 0
    while i + 1 < bytes.count {
      if bytes[i] == 10 && bytes[i + 1] == 10 { return i + 2 }
      if bytes[i] == 13 {
        if bytes[i + 1] == 13 { return i + 2 }
        if i + 3 < bytes.count && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i + 4 }
      }
      i += 1
    }
    return nil
  }
}
