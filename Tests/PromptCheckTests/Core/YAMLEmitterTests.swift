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

@Suite struct YAMLEmitterTests {
  static let samples: [JSON] = [
    [
      "a": 1, "b": 2.5, "c": true, "d": .null, "e": "text",
      "f": [1, "2", "yes", "no", "on", "1.5", "0x1F", "", "~", "null"],
    ],
    [
      "multi": "line one\nline two\n", "trailing": "no newline\nat end", "lead": "  indented\nx", "tabs": "a\tb",
      "ctrl": "nul\u{0}and\u{7}bell",
    ],
    [
      "unicode": "café 👍🏽 \u{2028} ☃", "quotes": "it's \"quoted\"", "colon": "a: b", "hash": "x # not a comment",
      "dash": "- item",
    ],
    ["empty": [:], "list": [], "nested": [["x": [["y": "z"]]]], "1734": -100, "key with spaces": "v"],
    ["long": .string(String(repeating: "word ", count: 200))],
    [["deep": [[[1]]]]],
  ]

  @Test(arguments: samples.indices)
  func roundTripsExactly(index: Int) throws {
    let value = Self.samples[index]
    let yaml = try YAMLEmitter.emit(value)
    var reader = NodeReader()
    let back = reader.json(try YAMLParser.parse(yaml, file: "cassette"))
    #expect(reader.sink.diagnostics.isEmpty)
    #expect(back == value, "\(yaml)")
    // Key order survives.
    if case .object(let a) = value, case .object(let b) = back { #expect(a.keys == b.keys) }
  }

  @Test func multiLineTextIsABlockScalarAndLongLinesAreNotFolded() throws {
    let yaml = try YAMLEmitter.emit([
      "content": "Hello.\nSecond line.", "long": .string(String(repeating: "x", count: 300)), "n": "42",
    ])
    // `n` is a YAML 1.1 boolean word, so it is quoted.
    #expect(yaml == "content: |-\n  Hello.\n  Second line.\nlong: \(String(repeating: "x", count: 300))\n'n': '42'\n")
  }
}
