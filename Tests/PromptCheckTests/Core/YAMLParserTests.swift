import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

@Suite struct YAMLParserTests {
  @Test func nodesKeepLineAndColumn() throws {
    let root = try YAMLParser.parse("a: 1\nb:\n  - x\n  - {c: d}\n", file: "f.yaml")
    let b = try #require(root["b"]?.sequence)
    #expect(root.location == SourceLocation(file: "f.yaml", line: 1, column: 1))
    #expect(b[0].location == SourceLocation(file: "f.yaml", line: 3, column: 5))
    #expect(b[1]["c"]?.location == SourceLocation(file: "f.yaml", line: 4, column: 9))
  }

  @Test(arguments: [
    ("1", YAMLNode.Resolved.int(1)), ("-0x1F", .int(-31)), ("0o17", .int(15)), ("1.5", .double(1.5)),
    ("1e3", .double(1000)), ("true", .bool(true)), ("False", .bool(false)), ("~", .null), ("null", .null),
    ("yes", .string("yes")), ("'1'", .string("1")), ("\"true\"", .string("true")), ("!!str 12", .string("12")),
    ("1_000", .string("1_000")), ("0x", .string("0x")),
  ])
  func scalarsResolveByTheCoreSchema(text: String, expected: YAMLNode.Resolved) throws {
    let root = try YAMLParser.parse("v: \(text)\n", file: "f")
    #expect(root["v"]?.resolved == expected)
  }

  @Test func anchorsAliasesAndMergeKeys() throws {
    let yaml = """
      base: &base {a: 1, b: 2}
      other: &other {c: 3}
      x:
        <<: [*base, *other]
        b: 20
      y: *base
      """
    let root = try YAMLParser.parse(yaml, file: "f")
    let x = try #require(root["x"]?.mapping)
    #expect(x.map { $0.key.scalar!.text } == ["b", "a", "c"])
    #expect(root["x"]?["b"]?.resolved == .int(20))
    #expect(root["x"]?["a"]?.resolved == .int(1))
    #expect(root["y"]?["b"]?.resolved == .int(2))
    #expect(root["y"]?.location.line == 6)
  }

  @Test func syntaxErrorsCarryLibyamlsMessageAndPosition() {
    #expect(
      throws: Diagnostic("this [ is never closed; add the closing ]", at: SourceLocation(file: "f", line: 1, column: 4))
    ) {
      _ = try YAMLParser.parse("a: [1, 2\n", file: "f")
    }
    // An unterminated quote is reported where it opens, not at the end of the file.
    #expect(
      throws: Diagnostic(
        "this quoted string is never closed; add the closing quote", at: SourceLocation(file: "f", line: 2, column: 9))
    ) {
      _ = try YAMLParser.parse("tests:\n  name: \"open\n  prompt: x\n\nmore: 1\n", file: "f")
    }
    // A tab says it is a tab, and how to fix it.
    #expect(
      throws: Diagnostic(
        "a tab character here: YAML indents with spaces only; replace the tab with spaces",
        at: SourceLocation(file: "f", line: 2, column: 1))
    ) {
      _ = try YAMLParser.parse("tests:\n\t- name: x\n", file: "f")
    }
    #expect(
      throws: Diagnostic(
        "found a tab character that violates indentation while scanning a plain scalar",
        at: SourceLocation(file: "f", line: 2, column: 1))
    ) {
      _ = try YAMLParser.parse("a: 1\n\tb: 2\n", file: "f")
    }
  }

  @Test func duplicateKeysAndUnknownAliasesAreErrors() {
    #expect(throws: Diagnostic("duplicate key 'a'", at: SourceLocation(file: "f", line: 2, column: 1))) {
      _ = try YAMLParser.parse("a: 1\na: 2\n", file: "f")
    }
    #expect(throws: Diagnostic("unknown alias '*nope'", at: SourceLocation(file: "f", line: 1, column: 4))) {
      _ = try YAMLParser.parse("a: *nope\n", file: "f")
    }
  }

  @Test func aliasBombFailsFast() {
    var lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    var previous = "a"
    for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
      lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
      previous = name
    }
    #expect(
      throws: Diagnostic(
        "document expands to more than 1000000 nodes (too many aliases?)",
        at: SourceLocation(file: "bomb", line: 7, column: 8))
    ) {
      _ = try YAMLParser.parse(lines.joined(separator: "\n"), file: "bomb")
    }
  }

  /// The map around the list is the first level, so the 128th `[` (column 131) is one too deep.
  @Test func deepNestingFailsWithoutRecursion() {
    let deep = "a: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
    #expect(
      throws: Diagnostic("nesting is deeper than 128 levels", at: SourceLocation(file: "d", line: 1, column: 131))
    ) {
      _ = try YAMLParser.parse(deep, file: "d")
    }
  }

  @Test func oversizedFileIsRefused() {
    var limits = YAMLLimits()
    limits.maxBytes = 10
    #expect(
      throws: Diagnostic(
        "file is too large (12 bytes; the limit is 10 bytes)", at: SourceLocation(file: "big", line: 1, column: 1))
    ) {
      _ = try YAMLParser.parse("a: 123456789", file: "big", limits: limits)
    }
  }

  @Test func invalidUTF8IsReportedWhereItIs() {
    let bytes = Array("a: 1\nb: caf".utf8) + [0xC3] + Array(" x\n".utf8)
    #expect(throws: Diagnostic("invalid UTF-8 (byte 0xC3)", at: SourceLocation(file: "u", line: 2, column: 7))) {
      _ = try YAMLParser.parse(bytes: bytes, file: "u")
    }
  }

  @Test func scalarsMayHoldNUL() throws {
    let root = try YAMLParser.parse("a: \"x\\0y\"\n", file: "f")
    #expect(root["a"]?.scalar?.text == "x\u{0}y")
  }

  @Test func emptyDocumentIsNull() throws {
    #expect(try YAMLParser.parse("", file: "f").resolved == .null)
    #expect(throws: Diagnostic.self) { _ = try YAMLParser.parse("a: 1\n---\nb: 2\n", file: "f") }
  }
}

@Suite struct DiagnosticRenderingTests {
  @Test func rendersSourceLineAndCaret() {
    let d = Diagnostic("unknown key 'asert'", at: SourceLocation(file: "p.yaml", line: 2, column: 5))
    #expect(
      d.rendered(source: "tests:\n    asert: 1\n") == "p.yaml:2:5: error: unknown key 'asert'\n    asert: 1\n    ^")
  }

  @Test func longLinesAreShownAsAWindow() {
    let line = String(repeating: "a", count: 300) + "X" + String(repeating: "b", count: 300)
    let d = Diagnostic("here", at: SourceLocation(file: "f", line: 1, column: 301))
    let lines = d.rendered(source: line).split(separator: "\n")
    #expect(lines[1].count <= 102)
    let caretColumn = lines[2].count - 1
    #expect(Array(lines[1])[caretColumn] == "X")
  }

  @Test func didYouMeanUsesEditDistance() {
    #expect(closestMatch(to: "asert", in: SuiteLoader.testKeys) == "assert")
    #expect(closestMatch(to: "promt", in: SuiteLoader.testKeys) == "prompt")
    #expect(closestMatch(to: "zzzzzzzz", in: SuiteLoader.testKeys) == nil)
  }
}

@Suite struct YAMLScaleTests {
  /// Many nodes without aliases are fine: the budget counts each node once.
  @Test func largeFlatDocumentsLoad() throws {
    let items = (0..<50_000).map { "  - {name: case \($0), prompt: x}" }.joined(separator: "\n")
    let root = try YAMLParser.parse("tests:\n" + items + "\n", file: "f")
    #expect(root["tests"]?.sequence?.count == 50_000)
  }
}

/// `parseJSON` builds plain documents straight from the events; it must read every document
/// exactly as the tree parser and `NodeReader.json` do, and fail the same way.
@Suite struct YAMLJSONFastPathTests {
  func viaTree(_ text: String) -> Result<JSON, Diagnostic> {
    do {
      var reader = NodeReader()
      return .success(reader.json(try YAMLParser.parse(text, file: "t.yaml")))
    } catch {
      return .failure(error)
    }
  }

  func fast(_ text: String) -> Result<JSON, Diagnostic> {
    do {
      return .success(try YAMLParser.parseJSON(bytes: Array(text.utf8), file: "t.yaml"))
    } catch {
      return .failure(error)
    }
  }

  func same(_ a: Result<JSON, Diagnostic>, _ b: Result<JSON, Diagnostic>) -> Bool {
    switch (a, b) {
    case (.success(let x), .success(let y)): return x.serialized() == y.serialized()
    case (.failure(let x), .failure(let y)): return x.description == y.description
    default: return false
    }
  }

  @Test(arguments: [
    "a: 1\nb: [1, 2.5, -3, 0x1F, 0o17, .inf, ~, null, true, False, yes, '1', \"x\\ty\"]\n",
    "a: |\n  block\n  text\nb: >\n  folded\n  text\nc: ''\nd:\n",
    "base: &b {x: 1}\nuse: *b\nmerged: {<<: *b, y: 2}\n",
    "a: !!str 12\nb: !!int '7'\nc: !!float 3\n",
    "a: 1\na: 2\n",
    "? [1, 2]\n: x\n",
    "- 1\n- {k: [a, {b: c}]}\n",
    "",
    "a: 1\n---\nb: 2\n",
    "a: [1, 2\n",
    "a:\tb\n",
    "12345678901234567890: big\nn: 12345678901234567890\n",
    "\"quoted key\": 1\n'<<': literal merge key\n",
  ])
  func readsLikeTheTree(_ text: String) {
    #expect(same(fast(text), viaTree(text)), "\(fast(text)) vs \(viaTree(text))")
  }

  @Test func everyBundledCassetteReadsLikeTheTree() throws {
    var checked = 0
    for root in ["expectations/cassettes", "Tests/examples/expectations/cassettes"] {
      let dir = TestPaths.packageRoot.appendingPathComponent(root).path
      for f in FileSystem.files(under: dir, suffix: ".yaml") {
        let text = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
        #expect(same(fast(text), viaTree(text)), "\(f)")
        checked += 1
      }
    }
    #expect(checked > 25)
  }
}
