import Foundation
import Testing

@Suite struct QueryCommandTests {
  let doc = "{\"a\": [{\"b\": 1}, {\"b\": 2}], \"c\": \"x\"}"

  @Test func printsSelectedNodesAsOneArray() throws {
    let dir = try TemporaryDirectory()
    try dir.write("r.json", doc)
    let r = try BinaryRunner.run(["query", "$.a[?@.b > 1]", "r.json"], in: dir.url)
    #expect(r.status == 0)
    #expect(r.stdout == "[\n  {\n    \"b\": 2\n  }\n]\n")
  }

  @Test func pathsFromStandardInput() async throws {
    let dir = try TemporaryDirectory()
    let r = await CLI.run(["query", "$..b", "--paths"], in: dir.url, stdin: doc)
    #expect(r.status == 0)
    #expect(r.stdout == "[\n  \"$['a'][0]['b']\",\n  \"$['a'][1]['b']\"\n]\n")
    let dash = await CLI.run(["query", "$.c", "-"], in: dir.url, stdin: doc)
    #expect(dash.stdout == "[\n  \"x\"\n]\n")
  }

  @Test func nothingSelectedStillExitsZero() async throws {
    let dir = try TemporaryDirectory()
    let r = await CLI.run(["query", "$.nope"], in: dir.url, stdin: doc)
    #expect(r.status == 0)
    #expect(r.stdout == "[]\n")
  }

  @Test func invalidExpressionPointsAtTheCharacter() async throws {
    let dir = try TemporaryDirectory()
    let r = await CLI.run(["query", "$.a[?@.b = 1]"], in: dir.url, stdin: doc)
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(
      r.stderr
        == "error: invalid JSONPath at character 10: unexpected '=', expected ',' or ']'\n  $.a[?@.b = 1]\n           ^\n"
    )
  }

  @Test func invalidDocumentGivesLineAndColumn() async throws {
    let dir = try TemporaryDirectory()
    try dir.write("bad.json", "{\n  \"a\": [1,,2]\n}")
    let r = await CLI.run(["query", "$.a", "bad.json"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr == "bad.json:2:11: error: invalid JSON: unexpected ',', expected a value\n")
    let missing = await CLI.run(["query", "$.a", "missing.json"], in: dir.url)
    #expect(missing.status == 2)
    #expect(missing.stderr == "error: cannot read 'missing.json': No such file or directory\n")
  }
}

@Suite struct QueryInputTests {
  @Test func readsAFIFO() throws {
    let dir = try TemporaryDirectory()
    let fifo = dir.url.appendingPathComponent("pipe").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let writer = Thread {
      let fd = open(fifo, O_WRONLY)
      let text = Array("{\"a\": [1, 2]}".utf8)
      _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      close(fd)
    }
    writer.start()
    let r = try BinaryRunner.run(["query", "$.a[1]", fifo], in: dir.url)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "[\n  2\n]\n")
  }

  @Test func readsDevStdin() throws {
    let dir = try TemporaryDirectory()
    let r = try BinaryRunner.run(["query", "$.c", "/dev/stdin"], in: dir.url, stdin: "{\"c\": true}")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "[\n  true\n]\n")
  }
}
