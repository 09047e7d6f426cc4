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

@Suite struct JSONTests {
  @Test func equalityFollowsJSONNotSwift() throws {
    #expect(JSON.int(1) == JSON.double(1.0))
    #expect(JSON.bool(true) != JSON.int(1))
    #expect(JSON.string("1") != JSON.int(1))
    #expect(try JSON.parse("{\"a\":1,\"b\":[true,null]}") == JSON.parse("{\"b\":[true,null],\"a\":1.0}"))
    // Code points, not canonical equivalence: precomposed é differs from e + U+0301.
    #expect(JSON.string("\u{E9}") != JSON.string("e\u{301}"))
    #expect(try JSON.parse("{\"\u{E9}\":1,\"e\u{301}\":2}").objectValue?.count == 2)
    // Of the same length in UTF-8 and canonically equivalent (Swift's == says equal), yet other code points.
    #expect("\u{1E0B}\u{0323}" == "\u{1E0D}\u{0307}")
    #expect(JSON.string("\u{1E0B}\u{0323}") != JSON.string("\u{1E0D}\u{0307}"))
    #expect(try JSON.parse("{\"\u{1E0B}\u{0323}\":1,\"\u{1E0D}\u{0307}\":2}").objectValue?.count == 2)
    #expect(JSON.string("same bytes, twice") == JSON.string("same bytes, " + "twice"))
    #expect(JSON.int(9_007_199_254_740_993) != JSON.double(9_007_199_254_740_992))
  }

  @Test func orderingIsByCodePoint() {
    #expect(JSON.lessThan("Z", "a") == true)
    #expect(JSON.lessThan("\u{E9}", "f") == false)  // U+00E9 sorts after "f" by code point
    #expect(JSON.lessThan("a", 1) == nil)
  }

  @Test func numbersKeepTheirKind() throws {
    #expect(try JSON.parse("12") == .int(12))
    if case .double = try JSON.parse("12.0") {} else { Issue.record("12.0 must stay a float") }
    #expect(try JSON.parse("-0") == .int(0))
    #expect(try JSON.parse("1e400") == .double(.infinity))
    #expect(try JSON.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
  }

  @Test func stringsAndSurrogates() throws {
    #expect(try JSON.parse("\"a\\ud800\\udd01b\"") == .string("a\u{10101}b"))
    #expect(try JSON.parse("\"\\ud800x\"") == .string("\u{FFFD}x"))
    #expect(try JSON.parse("\"tab\\tnl\\n\\u00e9\\/\"") == .string("tab\tnl\n\u{E9}/"))
  }

  @Test(arguments: [
    ("{\"a\": 1,}", "line 1, column 9: unexpected '}', expected a member name in double quotes"),
    ("[1, 2", "line 1, column 6: unexpected end of input in an array, expected ',' or ']'"),
    ("{\"a\":\n  tru}", "line 2, column 3: invalid literal, expected 'true'"),
    ("\"abc", "line 1, column 1: unterminated string"),
    ("01", "line 1, column 1: invalid number: leading zero"),
    ("[1] x", "line 1, column 5: unexpected text after the JSON value"),
    ("\"a\u{1}\"", "line 1, column 3: control character byte 0x1 in a string must be escaped"),
    ("", "line 1, column 1: unexpected end of input, expected a value"),
  ])
  func parseErrorsHavePositions(text: String, message: String) {
    #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    do {
      _ = try JSON.parse(text)
    } catch {
      #expect(error.description == message)
    }
  }

  @Test func deepNestingIsRefused() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
  }

  @Test func serializationRoundTripsAndCanonicalises() throws {
    let v = try JSON.parse("{\"b\":[1,2.5,\"x\\n\"],\"a\":{\"z\":null,\"y\":true}}")
    #expect(v.serialized() == "{\"b\":[1,2.5,\"x\\n\"],\"a\":{\"z\":null,\"y\":true}}")
    #expect(v.serialized(keys: .sorted) == "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,\"x\\n\"]}")
    #expect(try JSON.parse("{\"n\":1.0}").canonical == "{\"n\":1}")
    #expect(try JSON.parse(v.prettyPrinted()) == v)
    #expect(JSON.object(JSONObject([("a", [1, 2])])).prettyPrinted() == "{\n  \"a\": [\n    1,\n    2\n  ]\n}")
  }
}

@Suite struct JSONPathTests {
  @Test func normalizedPathsEscapeNames() throws {
    let doc: JSON = ["a'b": ["x\u{1}": [10, 20]]]
    let got = try JSONPath("$..[1]").selectWithPaths(doc)
    #expect(got.map(\.path) == ["$['a\\'b']['x\\u0001'][1]"])
  }

  @Test(arguments: [
    ("$.a[", 4, "expected a selector"), ("$[?@.a = 1]", 7, "unexpected '=', expected ',' or ']'"),
    ("$[?length(@.*) == 1]", 10, "argument of 'length' must be a singular query or a value"),
    ("$[?count(1) == 1]", 9, "argument of 'count' must be a query"),
    ("$[?match(@.a, 'x') == true]", 3, "function 'match' returns a logical value, which cannot be compared"),
    ("$[?length(@.a)]", 3, "function 'length' returns a value; compare it (e.g. 'length(...) == 1')"),
    ("$[?foo(@)]", 3, "unknown function 'foo'; the functions are length, count, match, search and value"),
    ("$[01]", 2, "leading zeros are not allowed"), (" $", 0, "a query must start with '$'"),
  ])
  func errorsPointAtTheOffendingCharacter(expression: String, offset: Int, message: String) {
    do {
      _ = try JSONPath(expression)
      Issue.record("accepted \(expression)")
    } catch {
      #expect(error.offset == offset)
      #expect(error.message == message)
    }
  }

  @Test func pointerDrawsACaret() throws {
    do {
      _ = try JSONPath("$.a[")
    } catch {
      #expect(error.pointer == "$.a[\n    ^")
    }
  }

  @Test func filtersFunctionsAndDescendants() throws {
    let doc = try JSON.parse(
      """
      {"store": {"book": [
        {"title": "Sayings", "price": 8.95, "tags": ["a"]},
        {"title": "Sword", "price": 12.99, "isbn": "0-553"},
        {"title": "Moby", "price": 8.99, "isbn": "0-395"}]}}
      """)
    #expect(try JSONPath("$.store.book[?@.price < 9].title").select(doc) == ["Sayings", "Moby"])
    #expect(try JSONPath("$..book[?@.isbn && match(@.title, 'S.*')].title").select(doc) == ["Sword"])
    #expect(try JSONPath("$..[?search(@.title, 'o')].price").select(doc) == [12.99, 8.99])
    #expect(try JSONPath("$.store.book[?count(@.*) == 3].title").select(doc) == ["Sayings", "Sword", "Moby"])
    #expect(try JSONPath("$.store.book[?length(@.tags) == 1].title").select(doc) == ["Sayings"])
    #expect(try JSONPath("$.store.book[-1:].title").select(doc) == ["Moby"])
    #expect(try JSONPath("$.store.book[::-1].price").select(doc) == [8.99, 12.99, 8.95])
  }

  @Test func iRegexpDotDoesNotMatchOnlyNewlines() throws {
    let doc: JSON = ["a\u{2028}b", "a\nb", "a\rb", "axb"]
    #expect(try JSONPath("$[?match(@, 'a.b')]").select(doc) == ["a\u{2028}b", "axb"])
    // Not I-Regexp (\d is not part of RFC 9485): matches nothing rather than erroring.
    #expect(try JSONPath("$[?match(@, '\\\\d')]").select(["1"]) == [])
  }
}

@Suite struct JSONObjectTests {
  @Test func largeObjectsKeepOrderAndCodePointNames() {
    var o = JSONObject()
    for i in 0..<100 { o["k\(i)"] = .int(i) }
    o["\u{E9}"] = 1
    o["e\u{301}"] = 2
    #expect(o.count == 102)
    #expect(o["k57"] == .int(57))
    #expect(o["\u{E9}"] == .int(1) && o["e\u{301}"] == .int(2))
    o["k3"] = nil
    #expect(o["k4"] == .int(4) && o["k3"] == nil && o.count == 101)
    o["k4"] = "replaced"
    #expect(o.keys.prefix(4) == ["k0", "k1", "k2", "k4"])
    #expect(o["k4"] == "replaced")
  }
}
