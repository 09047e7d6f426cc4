internal import CLibYAML

/// Writes JSON values as block-style YAML with libyaml's emitter. Strings
/// that a YAML reader would type (numbers, booleans, null, YAML 1.1's
/// yes/no/on/off) are quoted; multi-line strings become literal block
/// scalars, so a cassette diff reads like text. Keys keep their order.
package final class YAMLEmitter {
  private var emitter = yaml_emitter_t()
  private var output: [UInt8] = []
  private var failed = false

  package struct EmitError: Error, Sendable { package var message: String }

  init() {
    yaml_emitter_initialize(&emitter)
    let me = Unmanaged.passUnretained(self).toOpaque()
    yaml_emitter_set_output(
      &emitter,
      { data, buffer, size in
        guard let data, let buffer else { return 0 }
        let emitter = Unmanaged<YAMLEmitter>.fromOpaque(data).takeUnretainedValue()
        emitter.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
        return 1
      }, me)
    yaml_emitter_set_unicode(&emitter, 1)
    yaml_emitter_set_width(&emitter, -1)
    yaml_emitter_set_indent(&emitter, 2)
  }

  deinit { yaml_emitter_delete(&emitter) }

  /// One document holding `value`.
  package static func emit(_ value: JSON) throws(EmitError) -> String {
    let e = YAMLEmitter()
    return try e.document(value)
  }

  private func document(_ value: JSON) throws(EmitError) -> String {
    var event = yaml_event_t()
    yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
    try send(&event)
    yaml_document_start_event_initialize(&event, nil, nil, nil, 1)
    try send(&event)
    try node(value)
    yaml_document_end_event_initialize(&event, 1)
    try send(&event)
    yaml_stream_end_event_initialize(&event)
    try send(&event)
    yaml_emitter_flush(&emitter)
    return String(decoding: output, as: UTF8.self)
  }

  private func send(_ event: inout yaml_event_t) throws(EmitError) {
    // yaml_emitter_emit takes ownership of the event, on success and failure.
    guard yaml_emitter_emit(&emitter, &event) == 1 else {
      let problem = emitter.problem.map { String(cString: $0) } ?? "unknown problem"
      throw EmitError(message: "cannot write YAML: \(problem)")
    }
  }

  private func node(_ value: JSON) throws(EmitError) {
    var event = yaml_event_t()
    switch value {
    case .null: try scalar("null", style: YAML_PLAIN_SCALAR_STYLE)
    case .bool(let b): try scalar(b ? "true" : "false", style: YAML_PLAIN_SCALAR_STYLE)
    case .int(let i): try scalar(String(i), style: YAML_PLAIN_SCALAR_STYLE)
    case .double(let d): try scalar(JSON.format(d), style: YAML_PLAIN_SCALAR_STYLE)
    case .string(let s): try scalar(s, style: Self.style(for: s))
    case .array(let items):
      yaml_sequence_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE)
      try send(&event)
      for item in items { try node(item) }
      yaml_sequence_end_event_initialize(&event)
      try send(&event)
    case .object(let o):
      yaml_mapping_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE)
      try send(&event)
      for (k, v) in o.members {
        try scalar(k, style: Self.style(for: k, isKey: true))
        try node(v)
      }
      yaml_mapping_end_event_initialize(&event)
      try send(&event)
    }
  }

  private func scalar(_ text: String, style: yaml_scalar_style_t) throws(EmitError) {
    var event = yaml_event_t()
    // NUL-terminated, so the pointer is valid even for an empty string; libyaml copies the bytes.
    var bytes = Array(text.utf8) + [0]
    let length = Int32(bytes.count - 1)
    let ok = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
      guard let base = buffer.baseAddress else { return 0 }  // never: the array holds at least the NUL
      return yaml_scalar_event_initialize(&event, nil, nil, base, length, 1, 1, style)
    }
    guard ok == 1 else { throw EmitError(message: "cannot write a YAML scalar") }
    try send(&event)
  }

  static let yaml11Words: Set<String> = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~", "",
  ]

  /// Plain when every YAML reader would read the text back as this string; quoted otherwise.
  static func style(for s: String, isKey: Bool = false) -> yaml_scalar_style_t {
    if !isKey, s.contains("\n"), !s.hasPrefix(" "), !s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" })
    {
      return YAML_LITERAL_SCALAR_STYLE
    }
    if yaml11Words.contains(s) { return YAML_SINGLE_QUOTED_SCALAR_STYLE }
    if let first = s.unicodeScalars.first, ("0"..."9").contains(first) || first == "-" || first == "+" || first == "." {
      return YAML_SINGLE_QUOTED_SCALAR_STYLE
    }
    let probe = YAMLNode(.scalar(s, .plain), at: SourceLocation(file: "", line: 1, column: 1))
    if probe.resolved != .string(s) { return YAML_SINGLE_QUOTED_SCALAR_STYLE }
    return YAML_PLAIN_SCALAR_STYLE
  }
}
