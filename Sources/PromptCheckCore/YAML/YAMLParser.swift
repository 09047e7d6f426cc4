internal import CLibYAML

/// Limits that keep hostile files from hurting: every one is checked while
/// parsing, so a bad file fails fast instead of using memory or stack.
package struct YAMLLimits: Sendable {
  /// Largest file, in bytes.
  package var maxBytes = 4 * 1024 * 1024
  /// Deepest nesting of lists and maps.
  package var maxDepth = 128
  /// Most nodes the document may stand for once aliases are expanded.
  package var maxNodes = 1_000_000
  package init() {}
}

/// Parses YAML text with libyaml's event API into a `YAMLNode` tree.
///
/// The libyaml parser is owned by one `final class` that frees it in `deinit`;
/// the input bytes stay alive in a stored property for as long as the parser
/// may read them.
package enum YAMLParser {
  /// The libyaml in use (`0.2.5`).
  package static var libraryVersion: String { String(cString: yaml_get_version_string()) }

  package static func parse(
    _ text: String, file: String, limits: YAMLLimits = YAMLLimits()
  ) throws(Diagnostic) -> YAMLNode {
    try parse(bytes: Array(text.utf8), file: file, limits: limits)
  }

  package static func parse(
    bytes: [UInt8], file: String, limits: YAMLLimits = YAMLLimits()
  ) throws(Diagnostic) -> YAMLNode {
    if bytes.count > limits.maxBytes {
      throw Diagnostic(
        "file is too large (\(bytes.count) bytes; the limit is \(limits.maxBytes) bytes)",
        at: SourceLocation(file: file, line: 1, column: 1))
    }
    if let bad = firstInvalidUTF8(bytes) {
      throw Diagnostic(
        "invalid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)))",
        at: location(ofByte: bad, in: bytes, file: file))
    }
    let session = ParserSession(bytes: bytes, file: file, limits: limits)
    return try session.run()
  }

  /// The document as JSON (plain scalars typed by the core schema, as `YAMLNode.json` reads
  /// a tree), built straight from libyaml's events for the plain documents promptcheck writes
  /// (cassettes); a document with anchors, aliases, tags, merge keys or anything the tree parser
  /// would refuse is read through the tree, so results and errors are the same either way.
  package static func parseJSON(bytes: [UInt8], file: String, limits: YAMLLimits = YAMLLimits()) throws(Diagnostic)
    -> JSON
  {
    if bytes.count <= limits.maxBytes, firstInvalidUTF8(bytes) == nil,
      let json = try ParserSession(bytes: bytes, file: file, limits: limits).runJSON()
    {
      return json
    }
    return try parse(bytes: bytes, file: file, limits: limits).json()
  }

  /// Index of the first byte that is not valid UTF-8, if any.
  package static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
      let b = bytes[i]
      if b < 0x80 { i += 1; continue }
      var need = 0
      var minValue: UInt32 = 0
      var value: UInt32 = 0
      switch b {
      case 0xC2...0xDF: need = 1; value = UInt32(b & 0x1F); minValue = 0x80
      case 0xE0...0xEF: need = 2; value = UInt32(b & 0x0F); minValue = 0x800
      case 0xF0...0xF4: need = 3; value = UInt32(b & 0x07); minValue = 0x10000
      default: return i
      }
      guard i + need < n else { return i }
      for k in 1...need {
        let c = bytes[i + k]
        guard c & 0xC0 == 0x80 else { return i }
        value = value << 6 | UInt32(c & 0x3F)
      }
      if value < minValue || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return i }
      i += need + 1
    }
    return nil
  }

  package static func location(ofByte offset: Int, in bytes: [UInt8], file: String) -> SourceLocation {
    var line = 1
    var column = 1
    var i = 0
    while i < offset && i < bytes.count {
      if bytes[i] == 0x0A {
        line += 1
        column = 1
      } else if bytes[i] & 0xC0 != 0x80 {
        column += 1
      }
      i += 1
    }
    return SourceLocation(file: file, line: line, column: column)
  }
}

/// Owns one `yaml_parser_t` and the bytes it reads.
private final class ParserSession {
  private var parser = yaml_parser_t()
  private let bytes: UnsafeMutableBufferPointer<UInt8>
  private let file: String
  private let limits: YAMLLimits

  /// An open sequence or mapping. A class, so appending a child never copies the siblings.
  private final class Frame {
    let isMapping: Bool
    let anchor: String?
    let tag: String?
    let location: SourceLocation
    var items: [YAMLNode] = []
    var pairs: [YAMLNode.Pair] = []
    var keys: Set<String> = []
    var pendingKey: YAMLNode?
    var merges: [YAMLNode] = []
    /// Nodes this container stands for once its aliases are expanded.
    var weight = 1

    init(isMapping: Bool, anchor: String?, tag: String?, location: SourceLocation) {
      self.isMapping = isMapping
      self.anchor = anchor
      self.tag = tag
      self.location = location
    }
  }

  private var stack: [Frame] = []
  private var anchors: [String: (node: YAMLNode, weight: Int)] = [:]
  /// Nodes the document stands for so far, aliases expanded.
  private var totalNodes = 0
  /// The document's root once it is complete.
  private var topLevel: YAMLNode?

  init(bytes source: [UInt8], file: String, limits: YAMLLimits) {
    self.bytes = UnsafeMutableBufferPointer.allocate(capacity: max(source.count, 1))
    _ = self.bytes.initialize(from: source)
    self.file = file
    self.limits = limits
    yaml_parser_initialize(&parser)
    yaml_parser_set_input_string(&parser, self.bytes.baseAddress, source.count)
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
  }

  deinit {
    yaml_parser_delete(&parser)
    bytes.deallocate()
  }

  private func mark(_ m: yaml_mark_t) -> SourceLocation {
    SourceLocation(file: file, line: Int(m.line) + 1, column: Int(m.column) + 1)
  }

  /// libyaml's error, said for a person: at the place to fix, in words that say how.
  private func parserError() -> Diagnostic {
    let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
    let context = parser.context.map { String(cString: $0) }
    var message = problem
    if let context { message += " " + context }
    if parser.error == YAML_READER_ERROR {
      return Diagnostic(
        message, at: YAMLParser.location(ofByte: Int(parser.problem_offset), in: Array(bytes), file: file))
    }
    let offset = Int(parser.problem_mark.index)
    let byte = offset < bytes.count ? bytes[offset] : nil
    // A tab where a token or an indentation must start: YAML indents with spaces only.
    if byte == UInt8(ascii: "\t") && problem.contains("cannot start any token") {
      return Diagnostic(
        "a tab character here: YAML indents with spaces only; replace the tab with spaces",
        at: mark(parser.problem_mark))
    }
    // A quoted scalar, flow collection or block left open runs to the end of the file: point at its start.
    let atEnd = offset >= bytes.count - 1 || bytes[offset...].allSatisfy { $0 == 0 || $0 == 10 || $0 == 13 || $0 == 32 }
    if let context, problem.contains("end of stream") || problem.contains("unexpected end") || atEnd {
      let what: String
      switch context {
      case let c where c.contains("quoted scalar"):
        what = "this quoted string is never closed; add the closing quote"
      case let c where c.contains("flow sequence"):
        what = "this [ is never closed; add the closing ]"
      case let c where c.contains("flow mapping"):
        what = "this { is never closed; add the closing }"
      default:
        what = message
      }
      return Diagnostic(what, at: mark(parser.context_mark))
    }
    return Diagnostic(message, at: mark(parser.problem_mark))
  }

  private func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    guard let p else { return nil }
    return String(cString: p)
  }

  func run() throws(Diagnostic) -> YAMLNode {
    var documents: [YAMLNode] = []
    var documentStart: SourceLocation?
    while true {
      var event = yaml_event_t()
      guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError() }
      defer { yaml_event_delete(&event) }
      let start = mark(event.start_mark)

      switch event.type {
      case YAML_STREAM_END_EVENT:
        return documents.first ?? YAMLNode(.scalar("", .plain), at: SourceLocation(file: file, line: 1, column: 1))
      case YAML_DOCUMENT_START_EVENT:
        if !documents.isEmpty {
          throw Diagnostic("expected one YAML document, found a second one", at: start)
        }
        documentStart = start
      case YAML_DOCUMENT_END_EVENT:
        documents.append(topLevel ?? YAMLNode(.scalar("", .plain), at: documentStart ?? start))
        topLevel = nil
      case YAML_ALIAS_EVENT:
        let name = string(event.data.alias.anchor) ?? ""
        guard let (node, weight) = anchors[name] else {
          throw Diagnostic("unknown alias '*\(name)'", at: start)
        }
        var aliased = node
        aliased.location = start
        // An alias stands for its whole anchored subtree again.
        try finish(aliased, weight: weight, newNodes: weight, anchor: nil, at: start)
      case YAML_SCALAR_EVENT:
        let s = event.data.scalar
        let text: String
        if let value = s.value {
          text = String(decoding: UnsafeBufferPointer(start: value, count: Int(s.length)), as: UTF8.self)
        } else {
          text = ""
        }
        let style: YAMLNode.Style
        switch s.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE, YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .quoted
        case YAML_LITERAL_SCALAR_STYLE, YAML_FOLDED_SCALAR_STYLE: style = .block
        default: style = .plain
        }
        var tag = string(s.tag)
        if tag == "!" { tag = "tag:yaml.org,2002:str" }
        try finish(
          YAMLNode(.scalar(text, style), tag: tag, at: start), weight: 1, newNodes: 1,
          anchor: string(s.anchor), at: start)
      case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        if stack.count >= limits.maxDepth {
          throw Diagnostic("nesting is deeper than \(limits.maxDepth) levels", at: start)
        }
        let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
        let tag = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
        stack.append(Frame(isMapping: isMapping, anchor: string(anchor), tag: string(tag), location: start))
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        guard let frame = stack.popLast() else { throw Diagnostic("unbalanced end of a collection", at: start) }
        let node: YAMLNode
        if frame.isMapping {
          try applyMerges(frame)
          node = YAMLNode(.mapping(frame.pairs), tag: frame.tag, at: frame.location)
        } else {
          node = YAMLNode(.sequence(frame.items), tag: frame.tag, at: frame.location)
        }
        // The children were counted as they finished; the container itself is one more node.
        try finish(node, weight: frame.weight, newNodes: 1, anchor: frame.anchor, at: frame.location)
      default:
        break
      }
    }
  }

  /// An open list or map of the JSON walk (a value in the frame stack, changed in place).
  private struct JSONFrame {
    let isMapping: Bool
    var items: [JSON] = []
    var object = JSONObject()
    var key: String?
    init(isMapping: Bool) { self.isMapping = isMapping }
  }

  /// The fast path of `YAMLParser.parseJSON`: nil when the document needs the tree parser.
  /// libyaml's own errors are thrown as the tree parser throws them.
  func runJSON() throws(Diagnostic) -> JSON? {
    var frames: [JSONFrame] = []
    var root: JSON?
    var documents = 0
    var nodes = 0
    /// Puts a finished value into its parent; false when the tree parser must decide.
    func place(_ value: JSON) -> Bool {
      nodes += 1
      guard nodes <= limits.maxNodes else { return false }
      let top = frames.count - 1
      guard top >= 0 else {
        root = value
        return true
      }
      guard frames[top].isMapping else {
        frames[top].items.append(value)
        return true
      }
      // A key given twice is the tree parser's error to report.
      guard let key = frames[top].key, frames[top].object.insertNew(key, value) else { return false }
      frames[top].key = nil
      return true
    }
    while true {
      var event = yaml_event_t()
      guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError() }
      defer { yaml_event_delete(&event) }
      switch event.type {
      case YAML_STREAM_END_EVENT:
        return documents == 1 ? root : nil
      case YAML_DOCUMENT_START_EVENT:
        documents += 1
        if documents > 1 { return nil }
      case YAML_ALIAS_EVENT:
        return nil
      case YAML_SCALAR_EVENT:
        let s = event.data.scalar
        if s.anchor != nil || s.tag != nil { return nil }
        let text =
          s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(s.length)), as: UTF8.self) } ?? ""
        let plain =
          s.style != YAML_SINGLE_QUOTED_SCALAR_STYLE && s.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE
          && s.style != YAML_LITERAL_SCALAR_STYLE && s.style != YAML_FOLDED_SCALAR_STYLE
        if let top = frames.indices.last, frames[top].isMapping, frames[top].key == nil {
          if plain && text == "<<" { return nil }
          frames[top].key = text
          nodes += 1
          continue
        }
        let value: JSON
        if !plain {
          value = .string(text)
        } else {
          switch YAMLNode.resolvePlain(text) {
          case .null: value = .null
          case .bool(let b): value = .bool(b)
          case .int(let i): value = .int(i)
          case .double(let d): value = d.isFinite ? .double(d) : .null
          case .string(let t): value = .string(t)
          }
        }
        guard place(value) else { return nil }
      case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
        let tag = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
        if anchor != nil || tag != nil || frames.count >= limits.maxDepth { return nil }
        // A list or map as a map's key is the tree parser's error to report.
        if let parent = frames.last, parent.isMapping, parent.key == nil { return nil }
        frames.append(JSONFrame(isMapping: isMapping))
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        guard let frame = frames.popLast() else { return nil }
        guard place(frame.isMapping ? .object(frame.object) : .array(frame.items)) else { return nil }
      default:
        break
      }
    }
  }

  private func finish(
    _ node: YAMLNode, weight: Int, newNodes: Int, anchor: String?, at location: SourceLocation
  ) throws(Diagnostic) {
    totalNodes += newNodes
    if totalNodes > limits.maxNodes {
      throw Diagnostic(
        "document expands to more than \(limits.maxNodes) nodes (too many aliases?)", at: location)
    }
    if let anchor { anchors[anchor] = (node, weight) }
    guard let parent = stack.last else {
      topLevel = node
      return
    }
    parent.weight += weight
    guard parent.isMapping else {
      parent.items.append(node)
      return
    }
    guard let key = parent.pendingKey else {
      if node.scalar == nil {
        throw Diagnostic("a map key must be a scalar, found \(node.kindDescription)", at: node.location)
      }
      parent.pendingKey = node
      return
    }
    parent.pendingKey = nil
    if key.scalar?.text == "<<", key.scalar?.style == .plain, key.tag == nil {
      parent.merges.append(node)
      return
    }
    let keyText = key.scalar?.text ?? ""
    guard parent.keys.insert(keyText).inserted else {
      throw Diagnostic("duplicate key '\(keyText)'", at: key.location)
    }
    parent.pairs.append(YAMLNode.Pair(key: key, value: node))
  }

  /// `<<: *base` or `<<: [*a, *b]`: keys the map does not set itself are copied
  /// in; among several merged maps the first one listed wins (YAML 1.1 merge).
  private func applyMerges(_ frame: Frame) throws(Diagnostic) {
    var sources: [YAMLNode] = []
    for m in frame.merges {
      if m.mapping != nil {
        sources.append(m)
      } else if let list = m.sequence {
        for item in list {
          guard item.mapping != nil else {
            throw Diagnostic("'<<' merges maps only, found \(item.kindDescription)", at: item.location)
          }
          sources.append(item)
        }
      } else {
        throw Diagnostic("'<<' merges a map or a list of maps, found \(m.kindDescription)", at: m.location)
      }
    }
    for source in sources {
      for pair in source.mapping ?? [] {
        let k = pair.key.scalar?.text ?? ""
        if frame.keys.insert(k).inserted { frame.pairs.append(pair) }
      }
    }
  }
}
