/// Recursive-descent parser for RFC 9535, including the well-typedness rules of §2.4.3.
struct JSONPathParser {
  let scalars: [Unicode.Scalar]
  let text: String
  var i = 0
  /// Guards against stack exhaustion on deeply nested filters.
  var depth = 0
  static let maxDepth = 64
  static let maxInt = 9_007_199_254_740_991

  init(_ text: String) {
    self.text = text
    self.scalars = Array(text.unicodeScalars)
  }

  func error(_ message: String, at offset: Int? = nil) -> JSONPathError {
    JSONPathError(message: message, offset: min(offset ?? i, scalars.count), expression: text)
  }

  var atEnd: Bool { i >= scalars.count }
  var peek: Unicode.Scalar? { i < scalars.count ? scalars[i] : nil }
  func peek(_ k: Int) -> Unicode.Scalar? { i + k < scalars.count ? scalars[i + k] : nil }

  static func isBlank(_ u: Unicode.Scalar) -> Bool {
    u == " " || u == "\t" || u == "\n" || u == "\r"
  }

  mutating func skipBlank() {
    while let u = peek, Self.isBlank(u) { i += 1 }
  }

  func describeCurrent() -> String {
    guard let u = peek else { return "end of expression" }
    return "'\(Character(u))'"
  }

  mutating func parseRoot() throws(JSONPathError) -> Query {
    guard peek == "$" else { throw error("a query must start with '$'") }
    i += 1
    let segments = try parseSegments()
    if !atEnd { throw error("unexpected \(describeCurrent())") }
    return Query(absolute: true, segments: segments)
  }

  mutating func parseSegments() throws(JSONPathError) -> [Segment] {
    var segments: [Segment] = []
    while true {
      let save = i
      skipBlank()
      guard let u = peek, u == "." || u == "[" else {
        i = save
        return segments
      }
      segments.append(try parseSegment())
    }
  }

  mutating func parseSegment() throws(JSONPathError) -> Segment {
    if peek == "[" { return .child(try parseBracketed()) }
    // "." or ".."
    i += 1
    if peek == "." {
      i += 1
      if peek == "[" { return .descendant(try parseBracketed()) }
      if peek == "*" {
        i += 1
        return .descendant([.wildcard])
      }
      if let u = peek, Self.isNameFirst(u) { return .descendant([.name(parseMemberName())]) }
      throw error("expected a member name, '*' or '[' after '..'")
    }
    if peek == "*" {
      i += 1
      return .child([.wildcard])
    }
    if let u = peek, Self.isNameFirst(u) { return .child([.name(parseMemberName())]) }
    throw error("expected a member name or '*' after '.'")
  }

  static func isNameFirst(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x41...0x5A, 0x61...0x7A, 0x5F, 0x80...0xD7FF, 0xE000...0x10FFFF: return true
    default: return false
    }
  }

  static func isNameChar(_ u: Unicode.Scalar) -> Bool {
    isNameFirst(u) || ("0"..."9").contains(u)
  }

  mutating func parseMemberName() -> String {
    var s = String.UnicodeScalarView()
    while let u = peek, Self.isNameChar(u) {
      s.append(u)
      i += 1
    }
    return String(s)
  }

  mutating func parseBracketed() throws(JSONPathError) -> [Selector] {
    i += 1  // [
    var selectors: [Selector] = []
    while true {
      skipBlank()
      selectors.append(try parseSelector())
      skipBlank()
      guard let u = peek else { throw error("expected ']' to close the selection") }
      if u == "," {
        i += 1
        continue
      }
      if u == "]" {
        i += 1
        return selectors
      }
      throw error("unexpected \(describeCurrent()), expected ',' or ']'")
    }
  }

  mutating func parseSelector() throws(JSONPathError) -> Selector {
    guard let u = peek else { throw error("expected a selector") }
    switch u {
    case "'", "\"": return .name(try parseStringLiteral())
    case "*":
      i += 1
      return .wildcard
    case "?":
      i += 1
      skipBlank()
      return .filter(try parseLogicalOr())
    case ":", "-", "0"..."9":
      return try parseIndexOrSlice()
    default:
      throw error("unexpected \(describeCurrent()), expected a selector")
    }
  }

  mutating func parseInt() throws(JSONPathError) -> Int {
    let start = i
    var negative = false
    if peek == "-" {
      negative = true
      i += 1
    }
    guard let first = peek, ("0"..."9").contains(first) else { throw error("expected a digit") }
    if first == "0" {
      i += 1
      if negative { throw error("'-0' is not a valid integer here", at: start) }
      if let n = peek, ("0"..."9").contains(n) { throw error("leading zeros are not allowed", at: start) }
      return 0
    }
    var value = 0
    while let d = peek, ("0"..."9").contains(d) {
      value = value * 10 + Int(d.value - 48)
      if value > Self.maxInt { throw error("integer is out of range (±(2^53-1))", at: start) }
      i += 1
    }
    return negative ? -value : value
  }

  mutating func parseIndexOrSlice() throws(JSONPathError) -> Selector {
    var start: Int?
    if peek != ":" {
      let index = try parseInt()
      start = index
      let save = i
      skipBlank()
      if peek != ":" {
        i = save
        return .index(index)
      }
    }
    i += 1  // first ':'
    skipBlank()
    var end: Int?
    if let u = peek, u == "-" || ("0"..."9").contains(u) {
      end = try parseInt()
      skipBlank()
    }
    var step: Int?
    if peek == ":" {
      i += 1
      skipBlank()
      if let u = peek, u == "-" || ("0"..."9").contains(u) {
        step = try parseInt()
      }
    }
    return .slice(start: start, end: end, step: step)
  }

  mutating func parseHex4() throws(JSONPathError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard let u = peek, u.isASCII, let d = UInt32(String(u), radix: 16) else {
        throw error("expected 4 hex digits after '\\u'")
      }
      v = v << 4 | d
      i += 1
    }
    return v
  }

  mutating func parseStringLiteral() throws(JSONPathError) -> String {
    let quote = scalars[i]
    let start = i
    i += 1
    var out = String.UnicodeScalarView()
    while true {
      guard let u = peek else { throw error("unterminated string", at: start) }
      if u == quote {
        i += 1
        return String(out)
      }
      if u.value < 0x20 { throw error("control characters must be escaped in strings") }
      if u != "\\" {
        out.append(u)
        i += 1
        continue
      }
      i += 1
      guard let e = peek else { throw error("unterminated escape") }
      i += 1
      switch e {
      case "b": out.append("\u{08}")
      case "f": out.append("\u{0C}")
      case "n": out.append("\n")
      case "r": out.append("\r")
      case "t": out.append("\t")
      case "/": out.append("/")
      case "\\": out.append("\\")
      case "'" where quote == "'": out.append("'")
      case "\"" where quote == "\"": out.append("\"")
      case "u":
        let escapeStart = i - 2
        let high = try parseHex4()
        if (0xDC00...0xDFFF).contains(high) { throw error("unpaired low surrogate", at: escapeStart) }
        if (0xD800...0xDBFF).contains(high) {
          guard peek == "\\", peek(1) == "u" else { throw error("unpaired high surrogate", at: escapeStart) }
          i += 2
          let low = try parseHex4()
          guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate", at: escapeStart) }
          out.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
        } else {
          out.append(Unicode.Scalar(high) ?? "\u{FFFD}")
        }
      default:
        throw error("invalid escape '\\\(Character(e))'", at: i - 2)
      }
    }
  }

  // MARK: Filter expressions

  mutating func enter() throws(JSONPathError) {
    depth += 1
    if depth > Self.maxDepth { throw error("filter expression is nested too deeply") }
  }

  mutating func parseLogicalOr() throws(JSONPathError) -> LogicalExpression {
    try enter()
    defer { depth -= 1 }
    var items = [try parseLogicalAnd()]
    while true {
      let save = i
      skipBlank()
      guard peek == "|", peek(1) == "|" else {
        i = save
        break
      }
      i += 2
      skipBlank()
      items.append(try parseLogicalAnd())
    }
    return items.count == 1 ? items[0] : .or(items)
  }

  mutating func parseLogicalAnd() throws(JSONPathError) -> LogicalExpression {
    var items = [try parseBasic()]
    while true {
      let save = i
      skipBlank()
      guard peek == "&", peek(1) == "&" else {
        i = save
        break
      }
      i += 2
      skipBlank()
      items.append(try parseBasic())
    }
    return items.count == 1 ? items[0] : .and(items)
  }

  /// An operand as written, before we know whether it is compared or tested.
  enum Primary {
    case literal(JSON)
    case query(Query)
    case function(FunctionCall)
  }

  mutating func parseBasic() throws(JSONPathError) -> LogicalExpression {
    let expr = try parseBasicOrBare(allowBareLiteral: false)
    guard case .logical(let e) = expr else {
      // Only reachable with allowBareLiteral; kept total for safety.
      throw error("a literal alone is not a filter expression")
    }
    return e
  }

  enum BasicResult {
    case logical(LogicalExpression)
    case bare(Primary, offset: Int)
  }

  /// Parses a basic expression. In function-argument position a lone literal,
  /// query or function call is returned bare so the caller can type it.
  mutating func parseBasicOrBare(allowBareLiteral: Bool) throws(JSONPathError) -> BasicResult {
    if peek == "!" {
      i += 1
      skipBlank()
      if peek == "(" { return .logical(.not(try parseParenthesized())) }
      let start = i
      let p = try parsePrimary()
      switch p {
      case .query(let q): return .logical(.not(.existence(q)))
      case .function(let f):
        guard f.name.resultType != .value else {
          throw error("function '\(f.name.rawValue)' returns a value, which cannot be negated or tested", at: start)
        }
        return .logical(.not(.function(f)))
      case .literal:
        throw error("a literal cannot be negated", at: start)
      }
    }
    if peek == "(" { return .logical(try parseParenthesized()) }
    let start = i
    let left = try parsePrimary()
    let save = i
    skipBlank()
    if let op = parseComparisonOperator() {
      let leftC = try comparable(left, at: start)
      skipBlank()
      let rightStart = i
      let right = try parsePrimary()
      let rightC = try comparable(right, at: rightStart)
      return .logical(.comparison(leftC, op, rightC))
    }
    i = save
    switch left {
    case .query(let q):
      return allowBareLiteral ? .bare(left, offset: start) : .logical(.existence(q))
    case .function(let f):
      if allowBareLiteral { return .bare(left, offset: start) }
      guard f.name.resultType != .value else {
        throw error(
          "function '\(f.name.rawValue)' returns a value; compare it (e.g. '\(f.name.rawValue)(...) == 1')", at: start)
      }
      return .logical(.function(f))
    case .literal:
      if allowBareLiteral { return .bare(left, offset: start) }
      throw error("a literal must be compared with something", at: start)
    }
  }

  mutating func parseParenthesized() throws(JSONPathError) -> LogicalExpression {
    i += 1  // (
    skipBlank()
    let inner = try parseLogicalOr()
    skipBlank()
    guard peek == ")" else { throw error("expected ')'") }
    i += 1
    return inner
  }

  mutating func parseComparisonOperator() -> ComparisonOperator? {
    guard let a = peek else { return nil }
    let b = peek(1)
    switch (a, b) {
    case ("=", "="): i += 2; return .equal
    case ("!", "="): i += 2; return .notEqual
    case ("<", "="): i += 2; return .lessOrEqual
    case (">", "="): i += 2; return .greaterOrEqual
    case ("<", _): i += 1; return .less
    case (">", _): i += 1; return .greater
    default: return nil
    }
  }

  func comparable(_ p: Primary, at offset: Int) throws(JSONPathError) -> FilterOperand {
    switch p {
    case .literal(let v): return .literal(v)
    case .query(let q):
      guard q.isSingular else {
        throw error("only a singular query (names and indexes only) can be compared", at: offset)
      }
      return .query(q)
    case .function(let f):
      guard f.name.resultType == .value else {
        throw error("function '\(f.name.rawValue)' returns a logical value, which cannot be compared", at: offset)
      }
      return .function(f)
    }
  }

  mutating func parsePrimary() throws(JSONPathError) -> Primary {
    guard let u = peek else { throw error("unexpected end of expression") }
    switch u {
    case "$", "@":
      i += 1
      let segments = try parseSegments()
      return .query(Query(absolute: u == "$", segments: segments))
    case "'", "\"":
      return .literal(.string(try parseStringLiteral()))
    case "-", "0"..."9":
      return .literal(try parseNumber())
    case "a"..."z":
      let start = i
      var name = ""
      while let c = peek, ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" {
        name.unicodeScalars.append(c)
        i += 1
      }
      if peek == "(" { return .function(try parseFunction(name, at: start)) }
      switch name {
      case "true": return .literal(.bool(true))
      case "false": return .literal(.bool(false))
      case "null": return .literal(.null)
      default:
        throw error("unknown name '\(name)'; expected a literal, a query or a function call", at: start)
      }
    default:
      throw error("unexpected \(describeCurrent()), expected a literal, a query or a function call")
    }
  }

  mutating func parseNumber() throws(JSONPathError) -> JSON {
    let start = i
    var text = ""
    if peek == "-" {
      text += "-"
      i += 1
    }
    guard let f = peek, ("0"..."9").contains(f) else { throw error("expected a digit", at: i) }
    if f == "0" {
      text += "0"
      i += 1
      if let n = peek, ("0"..."9").contains(n) { throw error("leading zeros are not allowed", at: start) }
    } else {
      while let d = peek, ("0"..."9").contains(d) {
        text.unicodeScalars.append(d)
        i += 1
      }
    }
    var isInteger = true
    if peek == "." {
      isInteger = false
      text += "."
      i += 1
      guard let d = peek, ("0"..."9").contains(d) else { throw error("expected a digit after '.'") }
      while let d = peek, ("0"..."9").contains(d) {
        text.unicodeScalars.append(d)
        i += 1
      }
    }
    if peek == "e" || peek == "E" {
      isInteger = false
      text += "e"
      i += 1
      if let sign = peek, sign == "+" || sign == "-" {
        text.unicodeScalars.append(sign)
        i += 1
      }
      guard let d = peek, ("0"..."9").contains(d) else { throw error("expected a digit in the exponent") }
      while let d = peek, ("0"..."9").contains(d) {
        text.unicodeScalars.append(d)
        i += 1
      }
    }
    if isInteger, text != "-0", let v = Int(text) { return .int(v) }
    guard let d = Double(text) else { throw error("invalid number", at: start) }
    return .double(d)
  }

  mutating func parseFunction(_ rawName: String, at start: Int) throws(JSONPathError) -> FunctionCall {
    guard let name = FunctionName(rawValue: rawName) else {
      throw error("unknown function '\(rawName)'; the functions are length, count, match, search and value", at: start)
    }
    try enter()
    defer { depth -= 1 }
    i += 1  // (
    skipBlank()
    var args: [FunctionArgument] = []
    var argOffsets: [Int] = []
    if peek != ")" {
      while true {
        argOffsets.append(i)
        args.append(try parseArgument())
        skipBlank()
        if peek == "," {
          i += 1
          skipBlank()
          continue
        }
        break
      }
    }
    guard peek == ")" else { throw error("expected ',' or ')' in the call of '\(rawName)'") }
    i += 1
    let params = name.parameters
    guard args.count == params.count else {
      throw error(
        "function '\(rawName)' takes \(params.count) argument\(params.count == 1 ? "" : "s"), found \(args.count)",
        at: start)
    }
    for (k, (arg, param)) in zip(args, params).enumerated() {
      try check(arg, against: param, function: rawName, at: argOffsets[k])
    }
    var call = FunctionCall(name: name, arguments: args)
    if name == .match || name == .search, case .literal(.string(let pattern)) = args[1] {
      call.patternIsLiteral = true
      call.compiledPattern = try? IRegexp(pattern)
    }
    return call
  }

  mutating func parseArgument() throws(JSONPathError) -> FunctionArgument {
    // A bare literal, query or call is typed by the parameter; anything more is a logical expression.
    let start = i
    let first = try parseBasicOrBare(allowBareLiteral: true)
    let save = i
    skipBlank()
    let continues = (peek == "&" && peek(1) == "&") || (peek == "|" && peek(1) == "|")
    i = save
    if case .bare(let p, _) = first, !continues {
      switch p {
      case .literal(let v): return .literal(v)
      case .query(let q): return .query(q)
      case .function(let f): return .function(f)
      }
    }
    // Re-parse as a full logical expression from the start of the argument.
    i = start
    return .logical(try parseLogicalOr())
  }

  func check(_ arg: FunctionArgument, against param: FunctionName.ParameterType, function: String, at offset: Int)
    throws(JSONPathError)
  {
    switch (param, arg) {
    case (.value, .literal): return
    case (.value, .query(let q)):
      guard q.isSingular else {
        throw error("argument of '\(function)' must be a singular query or a value", at: offset)
      }
    case (.value, .function(let f)):
      guard f.name.resultType == .value else {
        throw error("argument of '\(function)' must be a value, not a logical result", at: offset)
      }
    case (.value, .logical):
      throw error("argument of '\(function)' must be a value, not a logical expression", at: offset)
    case (.nodes, .query): return
    case (.nodes, _):
      throw error("argument of '\(function)' must be a query", at: offset)
    case (.logical, .literal):
      throw error("argument of '\(function)' must be a logical expression", at: offset)
    case (.logical, .function(let f)):
      guard f.name.resultType != .value else {
        throw error("argument of '\(function)' must be a logical expression", at: offset)
      }
    case (.logical, _): return
    }
  }
}
