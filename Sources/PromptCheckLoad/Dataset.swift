import PromptCheckCore

/// Data-driven cases (README "Comparing models and prompts"): a CSV file (a header row, then
/// one case per row; RFC 4180 quoting, so fields may hold commas, quotes and newlines) or a
/// JSONL file (one JSON object per line). Each row becomes the case's vars.
package enum Dataset {
  static let maxRows = 10_000

  package struct Row {
    /// The line the row starts on (1-based, counting the header), for ids and messages.
    package var line: Int
    package var vars: [(key: String, value: String)]
  }

  package struct ParseError: Error {
    package var message: String
    package var line: Int
  }

  package static func parse(_ text: String, file: String) -> Result<[Row], ParseError> {
    file.lowercased().hasSuffix(".jsonl") ? jsonl(text) : csv(text)
  }

  static func jsonl(_ text: String) -> Result<[Row], ParseError> {
    var rows: [Row] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: " \t\r")
      if trimmed.isEmpty { continue }
      let value: JSON
      do {
        value = try JSON.parse(trimmed)
      } catch {
        return .failure(ParseError(message: "not JSON: \(error.message)", line: i + 1))
      }
      guard case .object(let o) = value else {
        return .failure(
          ParseError(message: "a line must be a JSON object, found \(Excerpt.json(value, length: 40))", line: i + 1))
      }
      rows.append(Row(line: i + 1, vars: o.members.map { ($0.key, $0.value.stringValue ?? $0.value.serialized()) }))
      if rows.count > maxRows { return .failure(ParseError(message: "more than \(maxRows) rows", line: i + 1)) }
    }
    return .success(rows)
  }

  static func csv(_ text: String) -> Result<[Row], ParseError> {
    var records: [(line: Int, fields: [String])] = []
    var fields: [String] = []
    var field = ""
    var quoted = false
    var atFieldStart = true
    var line = 1
    var recordLine = 1
    var chars = Array(text.unicodeScalars)[...]
    if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
    func endRecord() {
      fields.append(field)
      if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
      fields = []
      field = ""
      atFieldStart = true
    }
    var i = chars.startIndex
    while i < chars.endIndex {
      let c = chars[i]
      if quoted {
        if c == "\"" {
          if chars.index(after: i) < chars.endIndex && chars[chars.index(after: i)] == "\"" {
            field.unicodeScalars.append("\"")
            i = chars.index(after: i)
          } else {
            quoted = false
          }
        } else {
          if c == "\n" { line += 1 }
          field.unicodeScalars.append(c)
        }
      } else {
        switch c {
        case "\"" where atFieldStart:
          quoted = true
          atFieldStart = false
        case ",":
          fields.append(field)
          field = ""
          atFieldStart = true
        case "\r":
          break
        case "\n":
          endRecord()
          line += 1
          recordLine = line
        default:
          field.unicodeScalars.append(c)
          atFieldStart = false
        }
      }
      i = chars.index(after: i)
    }
    if quoted { return .failure(ParseError(message: "a quoted field is never closed", line: recordLine)) }
    if !field.isEmpty || !fields.isEmpty { endRecord() }
    guard let header = records.first else {
      return .failure(ParseError(message: "the file has no header row", line: 1))
    }
    let keys = header.fields.map { $0.trimmingCharacters(in: " \t") }
    if let empty = keys.firstIndex(where: \.isEmpty) {
      return .failure(ParseError(message: "column \(empty + 1) of the header has no name", line: header.line))
    }
    var rows: [Row] = []
    for r in records.dropFirst() {
      guard r.fields.count == keys.count else {
        return .failure(
          ParseError(message: "the row has \(r.fields.count) fields, the header \(keys.count)", line: r.line))
      }
      rows.append(Row(line: r.line, vars: Array(zip(keys, r.fields))))
      if rows.count > maxRows { return .failure(ParseError(message: "more than \(maxRows) rows", line: r.line)) }
    }
    return .success(rows)
  }
}
