import Foundation
import LoopbackServer
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

/// The fault matrix of README "Limits and safety": one test per attack, each made from outside
/// (a crafted file, a hostile server, a slow client, a signal) and checked by its outcome.

let oneTest = """
  tests:
    - name: t
      prompt: hello
  """

let streamedTest = """
  tests:
    - name: t
      prompt: hello
      params: {stream: true}
  """

/// A key with the characters that encodings change: `/`, `"`, `+`, `%`, `\`.
let hostileKey = #"sk-test-a/b"c+d%e\f-0123456789"#

/// Every spelling of `secret` that a file or a line could carry it in, and its longest parts.
func spellings(of secret: String) -> [String] {
  let json = String(JSON.string(secret).serialized().dropFirst().dropLast())
  let slashes = json.replacingOccurrences(of: "/", with: "\\/")
  let url = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
  let unicode = secret.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
  // A piece as long as most of the key is a leak too.
  let tail = String(secret.dropFirst(5))
  let jsonTail = String(JSON.string(tail).serialized().dropFirst().dropLast())
  return [secret, json, slashes, url, url.lowercased(), unicode, tail, jsonTail]
}

/// Every file under `dir`, as text.
func allFiles(under dir: URL) -> [(String, String)] {
  FileSystem.files(under: dir.path, where: { _ in true }).map { rel in
    (rel, (try? String(contentsOf: dir.appendingPathComponent(rel), encoding: .utf8)) ?? "")
  }
}

@Suite struct PathContainmentTests {
  /// A CI report whose pending golden names a path outside the golden folder.
  func crafted(_ path: String) async throws -> (Project, String) {
    let p = try Project(suites: ["s": "tests:\n  - name: greet\n    prompt: hi\n    golden: true\n"], handler: echo)
    _ = await p.run(["--mode", "live", "--json", "ci.json", "--quiet"])
    let report = try p.dir.read("ci.json")
    let edited = report.replacingOccurrences(
      of: "\"path\": \"expectations/golden/s/greet.txt\"", with: "\"path\": \(JSON.string(path).serialized())")
    #expect(edited != report, "the report names the golden: \(report)")
    try p.dir.write("ci.json", edited)
    return (p, edited)
  }

  @Test(arguments: [
    "../../outside-\(UUID().uuidString).txt", "/tmp/outside-\(UUID().uuidString).txt", "prompts/s.yaml",
  ])
  func acceptFromAReportWritesOnlyGoldens(_ target: String) async throws {
    let (p, _) = try await crafted(target)
    let before = try p.dir.read("prompts/s.yaml")
    let r = await CLI.run(["accept", "--from", "ci.json"], in: p.dir.url)
    #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains("error: refused to write '\(target)': "), "\(r.stderr)")
    let resolved = target.hasPrefix("/") ? target : p.dir.url.appendingPathComponent(target).standardized.path
    if target != "prompts/s.yaml" { #expect(!FileManager.default.fileExists(atPath: resolved)) }
    #expect(try p.dir.read("prompts/s.yaml") == before)
  }

  @Test func aProjectRootRefusesWhatLeavesIt() throws {
    let dir = try TemporaryDirectory()
    let outside = try TemporaryDirectory()
    try FileManager.default.createSymbolicLink(atPath: dir.url.path + "/link", withDestinationPath: outside.url.path)
    let root = ProjectRoot(dir.url.path)
    #expect(throws: PathError.self) { try root.path("../x") }
    #expect(throws: PathError.self) { try root.path("/etc/passwd") }
    #expect(throws: PathError.self) { try root.path("a/../../x") }
    #expect(throws: PathError.self) { try root.path("link/x.yaml") }
    #expect(throws: PathError.self) { try root.path("link/new/deeper/x.yaml") }
    #expect(try root.path("a/./b/../c.txt").absolute == root.path + "/a/c.txt")
    #expect(try root.path(dir.url.path + "/inside.txt").absolute == root.path + "/inside.txt")
  }

  /// Reading a file inside the project: beneath its folder in one call where a link stays inside
  /// (relative), the usual open and check where it does not (an absolute link inside is read all
  /// the same; a link out, through a file or a folder, is refused; so is a path climbing out).
  @Test func readingAFileStaysInsideTheProject() throws {
    let dir = try TemporaryDirectory()
    let outside = try TemporaryDirectory()
    let root = ProjectRoot(dir.url.path)
    try Data("in".utf8).write(to: dir.url.appendingPathComponent("a.yaml"))
    try Data("out".utf8).write(to: outside.url.appendingPathComponent("b.yaml"))
    let fm = FileManager.default
    try fm.createDirectory(atPath: root.path + "/sub", withIntermediateDirectories: true)
    try fm.createSymbolicLink(atPath: root.path + "/sub/relative.yaml", withDestinationPath: "../a.yaml")
    try fm.createSymbolicLink(atPath: root.path + "/absolute.yaml", withDestinationPath: root.path + "/a.yaml")
    try fm.createSymbolicLink(atPath: root.path + "/out.yaml", withDestinationPath: outside.url.path + "/b.yaml")
    try fm.createSymbolicLink(atPath: root.path + "/outdir", withDestinationPath: outside.url.path)
    for name in ["a.yaml", "sub/relative.yaml", "absolute.yaml", "sub/../a.yaml"] {
      #expect(
        FileSystem.readRegular(root.path + "/" + name, limit: 100, within: root) == .success(Array("in".utf8)),
        "\(name)")
      #expect(FileSystem.readAhead(root.path + "/" + name, upTo: 100, within: root) == Array("in".utf8), "\(name)")
    }
    let (fd, beneath) = FileSystem.open(root.path + "/sub/relative.yaml", O_RDONLY | O_CLOEXEC, inside: root)
    #expect(fd >= 0)
    close(fd)
    #expect(beneath, "openat2 with RESOLVE_BENEATH is in the kernels promptcheck runs on")
    for name in ["out.yaml", "outdir/b.yaml", "sub/../../\(outside.url.lastPathComponent)/b.yaml"] {
      #expect(FileSystem.readAhead(root.path + "/" + name, upTo: 100, within: root) == nil, "\(name)")
      if name != "sub/../../\(outside.url.lastPathComponent)/b.yaml" {
        #expect(
          FileSystem.readRegular(root.path + "/" + name, limit: 100, within: root)
            == .failure(.refused("it is a link to a file outside the project")), "\(name)")
      }
    }
  }

  @Test func recordingRefusesASymlinkedCassetteFolder() async throws {
    let p = try Project(suites: ["s": oneTest], handler: echo)
    let outside = try TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: p.dir.url.path + "/expectations/cassettes", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: p.dir.url.path + "/expectations/cassettes/s", withDestinationPath: outside.url.path)
    let r = await p.run(["--mode", "record"])
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains("a folder on its way is a link to"), "\(r.stdout)")
    #expect(allFiles(under: outside.url).isEmpty)
  }

  /// A cassette that is a FIFO (no writer: opening it would wait forever) or a link to a device.
  @Test(arguments: ["fifo", "device", "outside"])
  func aCassetteThatIsNoRegularFileErrorsItsCase(_ kind: String) async throws {
    let p = try Project(suites: ["s": oneTest + "\n  - name: u\n    prompt: bye\n"], handler: echo)
    #expect(await p.run(["--mode", "record", "--quiet"]).status == 0)
    let path = p.dir.url.path + "/expectations/cassettes/s/t.yaml"
    let outside = try TemporaryDirectory()
    try outside.write("t.yaml", try String(contentsOfFile: path, encoding: .utf8))
    unlink(path)
    switch kind {
    case "fifo": #expect(mkfifo(path, 0o644) == 0)
    case "device": try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
    default: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: outside.url.path + "/t.yaml")
    }
    let clock = ContinuousClock()
    let start = clock.now
    let r = await p.run(["--mode", "replay"])
    #expect(clock.now - start < .seconds(20))
    #expect(r.status == 3, "\(r.stdout)")
    let why =
      [
        "fifo": "it is a FIFO, not a regular file", "device": "it is a device, not a regular file",
        "outside": "it is a link to a file outside the project",
      ][kind] ?? ""
    #expect(r.stdout.contains("expectations/cassettes/s/t.yaml: error: \(why)"), "\(r.stdout)")
    // The run went on: the other case replayed.
    #expect(r.stdout.contains("PASS  s/u"), "\(r.stdout)")
  }

  @Test func aGoldenThatIsAFIFOErrorsItsCase() async throws {
    let p = try Project(suites: ["s": "tests:\n  - name: t\n    prompt: hi\n    golden: true\n"], handler: echo)
    try FileManager.default.createDirectory(
      atPath: p.dir.url.path + "/expectations/golden/s", withIntermediateDirectories: true)
    #expect(mkfifo(p.dir.url.path + "/expectations/golden/s/t.txt", 0o644) == 0)
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains("the golden expectations/golden/s/t.txt cannot be read: it is a FIFO"), "\(r.stdout)")
  }

  @Test func aTemporaryFileOfAKilledRunIsNeverACassetteAndIsRemoved() async throws {
    let p = try Project(suites: ["s": oneTest], handler: echo)
    #expect(await p.run(["--mode", "record", "--quiet"]).status == 0)
    let folder = p.dir.url.path + "/expectations/cassettes/s"
    // A dead run's file (no process 2^22 - 3 here: above Linux's default pid_max) and a live one's.
    let dead = ".t.yaml.tmp-4194301-12345"
    let alive = ".t.yaml.tmp-\(getpid())-777"
    try "garbage".write(toFile: folder + "/" + dead, atomically: false, encoding: .utf8)
    try "garbage".write(toFile: folder + "/" + alive, atomically: false, encoding: .utf8)
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/" + dead))
    #expect(FileManager.default.fileExists(atPath: folder + "/" + alive))
    #expect(!r.stdout.contains("no test uses"), "a temporary file is not an unused cassette: \(r.stdout)")
  }

  /// A cassette folder that is a link out of the project: a dead run's file there is not the
  /// project's to delete.
  @Test func aLeftoverBehindALinkOutOfTheProjectStays() async throws {
    let p = try Project(suites: ["s": oneTest], handler: echo)
    let outside = try TemporaryDirectory()
    let dead = ".t.yaml.tmp-4194301-12345"
    try outside.write(dead, "garbage")
    try FileManager.default.createDirectory(
      atPath: p.dir.url.path + "/expectations/cassettes", withIntermediateDirectories: true)
    #expect(symlink(outside.url.path, p.dir.url.path + "/expectations/cassettes/s") == 0)
    _ = await p.run(["--mode", "replay"])
    #expect(outside.exists(dead))
  }

  @Test func aCassetteEditedToRecordAnErrorReplaysAsThatError() async throws {
    let p = try Project(suites: ["s": oneTest], handler: echo)
    #expect(await p.run(["--mode", "record", "--quiet"]).status == 0)
    let path = "expectations/cassettes/s/t.yaml"
    let text = try p.dir.read(path)
    try p.dir.write(path, text.replacingOccurrences(of: "status: 200", with: "status: 500"))
    let r = await p.run(["--mode", "replay"])
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains("ERROR s/t"), "\(r.stdout)")
    #expect(r.stdout.contains("the cassette records HTTP 500"), "\(r.stdout)")
    // An error object in a 200 body.
    try p.dir.write(
      path,
      text.replacingOccurrences(
        of: "  body:\n    id:", with: "  body:\n    error: {message: overloaded, code: 503}\n    id:"))
    let again = await p.run(["--mode", "replay"])
    #expect(again.status == 3, "\(again.stdout)")
    #expect(again.stdout.contains("the cassette records an error: overloaded"), "\(again.stdout)")
  }
}

@Suite struct BoundedAnswerTests {
  /// `bytes` zeros, gzip-compressed (by Python's zlib: a few hundred KB for a quarter GiB).
  static func gzipBomb(_ megabytes: Int) async throws -> [UInt8] {
    let dir = try TemporaryDirectory()
    let out = dir.url.appendingPathComponent("bomb.gz")
    let made = try await Shell.run(
      "python3",
      [
        "-c",
        """
        import zlib, sys
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        zero = bytes(1 << 20)
        with open(sys.argv[1], 'wb') as f:
            for _ in range(\(megabytes)): f.write(c.compress(zero))
            f.write(c.flush())
        """, out.path,
      ])
    #expect(made.status == 0, "\(made.output)")
    return Array(try Data(contentsOf: out))
  }

  @Test func aGzipBombErrorsItsCaseWithinTheLimit() async throws {
    let bomb = try await Self.gzipBomb(64)
    #expect(bomb.count < 1 << 20)
    let p = try Project(suites: ["s": oneTest], extraConfig: "max_response_bytes: 1048576") { _, _ in
      .bytes(status: 200, headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body: bomb)
    }
    let r = await p.run(["--mode", "live"])
    #expect(r.status == 3, "\(r.stdout)")
    #expect(
      r.stdout.contains(
        "the answer is larger than 1048576 bytes (max_response_bytes; raise it with --max-response-bytes)"),
      "\(r.stdout)")
    #expect(p.server.requests.count == 1, "too large is not retried")
  }

  /// The real binary against a quarter-GiB bomb with the default limit: its peak memory is
  /// measured by a Python parent (RUSAGE_CHILDREN counts only its own children).
  @Test func theBinaryStaysSmallAgainstABomb() async throws {
    let bomb = try await Self.gzipBomb(256)
    let p = try Project(suites: ["s": oneTest]) { _, _ in
      .bytes(status: 200, headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body: bomb)
    }
    let argv = [
      "python3", "-c",
      """
      import resource, subprocess, sys
      r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
      print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
      print(r.stdout)
      """, BinaryRunner.binary.path, "run", "--mode", "live", "--quiet",
    ]
    let folder = p.dir.url.path
    let measured = await offPool {
      Subprocess.capture(
        argv, timeoutMS: 600_000, environment: [(name: "LOCAL_TEST_KEY", value: "sk-test-0123456789abcdef")],
        unsetting: ["CI"], cwd: folder)
    }
    let text = String(decoding: try measured.get().stdout, as: UTF8.self)
    let first = text.split(separator: "\n").first?.split(separator: " ") ?? []
    #expect(first.first == "3", "\(text)")
    let kilobytes = Int(first.last ?? "") ?? .max
    // The limit is 32 MiB of body; the program itself is about 30 MB. Generous: 200 MB.
    #expect(kilobytes < 200_000, "peak RSS \(kilobytes) kB\n\(text)")
    #expect(text.contains("larger than 33554432 bytes"), "\(text)")
  }

  @Test func anEndlessStreamEndsAtTheLimit() async throws {
    let piece = "data: " + FakeOpenAI.chunk(["content": .string(String(repeating: "x", count: 4000))]) + "\n\n"
    let p = try Project(suites: ["s": streamedTest], extraConfig: "max_response_bytes: 1048576") { _, _ in
      .endless(piece: piece, interval: 0, seconds: 30)
    }
    let clock = ContinuousClock()
    let start = clock.now
    let r = await p.run(["--mode", "live"])
    // Well before the server's own end at 30 s (it takes milliseconds alone; a browser test
    // sharing the two cores once made it 16 s).
    #expect(clock.now - start < .seconds(25))
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains("larger than 1048576 bytes"), "\(r.stdout)")
  }

  @Test func aStreamOfTooManyEventsOrTooLongALineIsRefused() {
    let events = String(repeating: "data: {}\n\n", count: 20)
    #expect(ServerSentEvents.limitProblem(Array(events.utf8), maxEvents: 19) != nil)
    #expect(ServerSentEvents.limitProblem(Array(events.utf8), maxEvents: 20) == nil)
    // Comments are no events.
    #expect(ServerSentEvents.limitProblem(Array(String(repeating: ": ping\n\n", count: 50).utf8), maxEvents: 1) == nil)
    let long = "data: " + String(repeating: "y", count: 300) + "\n\n"
    #expect(
      ServerSentEvents.limitProblem(Array(long.utf8), maxLineBytes: 256)
        == "a line of the stream is longer than 256 bytes (the longest one event may be)")
  }

  @Test func aStreamThatGoesQuietStallsOut() async throws {
    let p = try Project(suites: ["s": streamedTest], extraConfig: "stall_timeout: 0.5\nretries: 0") { _, _ in
      .chunks(
        status: 200, headers: [("Content-Type", "text/event-stream")],
        pieces: [(0, "data: " + FakeOpenAI.chunk(["content": "He"]) + "\n\n"), (60, "data: [DONE]\n\n")])
    }
    let clock = ContinuousClock()
    let start = clock.now
    let r = await p.run(["--mode", "live"])
    // (The stream would end after 60 s.)
    #expect(clock.now - start < .seconds(30))
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains("no byte came for 0.5 s (stall_timeout)"), "\(r.stdout)")
  }

  @Test func aProviderThatNeverAnswersCostsOneCallDeadline() async throws {
    let p = try Project(suites: ["s": oneTest], extraConfig: "timeout: 8\nretries: 5\ncall_deadline: 1.5") { _, _ in
      .silent(seconds: 20)
    }
    let clock = ContinuousClock()
    let start = clock.now
    let r = await p.run(["--mode", "live"])
    let took = clock.now - start
    // Without the deadline: six attempts of 8 s each, and the waits between them.
    #expect(took < .seconds(24), "\(took)")
    #expect(r.status == 3, "\(r.stdout)")
    #expect(r.stdout.contains("call_deadline of 1.5 s"), "\(r.stdout)")
    #expect(p.server.requests.count == 1, "\(p.server.requests.count) attempts: the first one used the whole deadline")
  }

  @Test func theLimitsAreCheckedWhereTheyAreGiven() async throws {
    let dir = try TemporaryDirectory()
    try dir.write("promptcheck.yaml", "max_response_bytes: 10\nstall_timeout: 0\ncall_deadline: -1\n")
    try dir.write("prompts/s.yaml", oneTest)
    let r = await CLI.run(["validate"], in: dir.url)
    #expect(r.status == 2)
    #expect(r.stderr.contains("promptcheck.yaml:1:21: error: max_response_bytes must be"), "\(r.stderr)")
    #expect(r.stderr.contains("promptcheck.yaml:2:16: error: stall_timeout must be"), "\(r.stderr)")
    #expect(r.stderr.contains("promptcheck.yaml:3:16: error: call_deadline must be"), "\(r.stderr)")
    try dir.write("promptcheck.yaml", "")
    let flag = await CLI.run(["run", "--max-response-bytes", "5"], in: dir.url)
    #expect(flag.status == 2)
    #expect(flag.stderr.contains("--max-response-bytes must be from 1024 to 2^40, found 5"), "\(flag.stderr)")
  }
}

@Suite struct SecretTests {
  /// A provider that echoes the key back: in a stream split over two events, JSON-escaped.
  @Test func aKeyEchoedAcrossStreamEventsIsInNoFile() async throws {
    let key = hostileKey
    let p = try Project(
      suites: ["s": streamedTest + "\n  - name: plain\n    prompt: plain\n"],
      handler: { request, _ in
        if request.json?["stream"] == .bool(true) {
          return .sse(FakeOpenAI.stream(["your key is ", String(key.prefix(5)), String(key.dropFirst(5)), "."]))
        }
        // \u-escaped and with escaped slashes, in a plain body.
        let escaped = key.unicodeScalars.map { String(format: "\\u%04X", $0.value) }.joined()
        let body = FakeOpenAI.completion("KEY").serialized().replacingOccurrences(of: "KEY", with: escaped)
        return .full(status: 200, headers: [("Content-Type", "application/json")], body: body)
      })
    let r = await CLI.run(
      ["run", "--mode", "record", "--json", "r.json", "--html", "r.html", "--verbose"], in: p.dir.url,
      environment: ["LOCAL_TEST_KEY": key])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let texts = allFiles(under: p.dir.url) + [("stdout", r.stdout), ("stderr", r.stderr)]
    #expect(texts.count > 4)
    for (name, text) in texts {
      for s in spellings(of: key) { #expect(!text.contains(s), "\(name) holds \(s)") }
    }
    let cassette = try p.dir.read("expectations/cassettes/s/t.yaml")
    #expect(cassette.contains("<redacted>"), "\(cassette)")
    // The stream still replays, with the mark where the key was.
    let replay = await CLI.run(["run", "--mode", "replay", "--verbose"], in: p.dir.url)
    #expect(replay.status == 0, "\(replay.stdout)")
    #expect(replay.stdout.contains("your key is <redacted>."), "\(replay.stdout)")
  }

  /// `serve --mode auto` records through a provider that echoes the key: neither the answers it
  /// passes on (whole or relayed as a stream) nor the cassettes it writes hold it.
  @Test func serveAutoPassesOnNoKey() async throws {
    let key = hostileKey
    let s = try await Served(
      mode: .auto, record: false, environment: ["LOCAL_TEST_KEY": key],
      handler: { request, _ in
        if request.json?["stream"] == .bool(true) {
          return .sse(FakeOpenAI.stream(["your key is ", String(key.prefix(9)), String(key.dropFirst(9)), "."]))
        }
        return .json(FakeOpenAI.completion("your key is \(key)"))
      })
    defer { s.server.stop() }
    let transport = try CurlTransport()
    var answers: [String] = []
    // 60 s: serve answers from a task of Swift's cooperative pool, which other tests' waits
    // can hold for seconds when every core is busy (a 10 s bound timed out under full load).
    for stream in [false, true] {
      let body = #"{"model": "test-model", "stream": \#(stream), "messages": [{"role": "user", "content": "key?"}]}"#
      let r = try await transport.send(
        HTTPRequest(url: s.baseURL + "/chat/completions", body: Array(body.utf8), timeout: 60))
      #expect(r.status == 200)
      answers.append(String(decoding: r.body, as: UTF8.self))
    }
    #expect(answers.allSatisfy { $0.contains("<redacted>") }, "\(answers)")
    let texts = allFiles(under: s.project.dir.url) + answers.map { ("answer", $0) } + [("log", s.log.value)]
    #expect(texts.contains { $0.0.hasPrefix("expectations/cassettes/served/") })
    for (name, text) in texts {
      for spelled in spellings(of: key) { #expect(!text.contains(spelled), "\(name) holds \(spelled)") }
    }
  }

  @Test(arguments: [
    ("raw", hostileKey), ("json", #"sk-test-a\/b\"c+d%e\\f-0123456789"#),
    ("url", "sk-test-a%2Fb%22c%2Bd%25e%5Cf-0123456789"), ("url-lower", "sk-test-a%2fb%22c%2bd%25e%5cf-0123456789"),
    ("unicode", #"\u0073k-test-a\u002Fb\u0022c+d%e\u005cf-0123456789"#),
    ("twice", #"sk-test-a\\\/b\\\"c+d%e\\\\f-0123456789"#),
  ])
  func theRedactorFindsEachSpelling(_ name: String, _ spelled: String) {
    let r = Redactor(secrets: [hostileKey])
    #expect(r("before \(spelled) after") == "before <redacted> after", "\(name)")
  }

  @Test func aKeySplitAcrossRelayedPiecesIsHeldUntilItIsWhole() {
    let stream = RedactingStream(Redactor(secrets: [hostileKey]))
    // Within one event: nothing goes before the event ends.
    var sent = stream.push(Array("data: {\"x\": \"sk-te".utf8))
    #expect(sent.isEmpty)
    sent += stream.push(Array(#"st-a\/b\"c+d%e\\f-0123456789 and more"}"#.utf8) + [10, 10])
    #expect(String(decoding: sent, as: UTF8.self) == "data: {\"x\": \"<redacted> and more\"}\n\n")
    // Across events: the event that may start the key waits for the next one.
    let event = { (text: String) in
      Array("data: \(JSON.object(JSONObject([("x", .string(text))])).serialized())\n\n".utf8)
    }
    #expect(String(decoding: stream.push(event("key: ")), as: UTF8.self) == #"data: {"x":"key: "}"# + "\n\n")
    #expect(stream.push(event(String(hostileKey.prefix(9)))).isEmpty, "the start of the key is held")
    #expect(stream.push(event(String(hostileKey.dropFirst(9).prefix(10)))).isEmpty)
    let rest = stream.push(event(String(hostileKey.dropFirst(19)) + "!"))
    #expect(
      String(decoding: rest, as: UTF8.self)
        == #"data: {"x":"<redacted>"}"# + "\n\n" + #"data: {"x":""}"# + "\n\n" + #"data: {"x":"!"}"# + "\n\n")
    // Comments and text that cannot begin a key go on as they came; the end sends what is left.
    #expect(String(decoding: stream.push(Array(": ping\r\n\r\n".utf8)), as: UTF8.self) == ": ping\r\n\r\n")
    #expect(stream.push(Array("data: [DO".utf8)).isEmpty)
    #expect(String(decoding: stream.finish(), as: UTF8.self) == "data: [DO")
  }

  @Test func aVariableInTheBaseURLIsWrittenAsItsReference() async throws {
    let p = try Project(suites: ["s": oneTest], handler: echo)
    let token = p.server.token
    try p.dir.write(
      "promptcheck.yaml",
      """
      providers:
        local:
          base_url: http://127.0.0.1:\(p.server.port)/${GW_TOKEN}/v1
          api_key_env: LOCAL_TEST_KEY
          model: test-model
      """)
    let env = ["LOCAL_TEST_KEY": "sk-test-0123456789abcdef", "GW_TOKEN": token]
    let r = await CLI.run(["run", "--mode", "record", "--json", "r.json"], in: p.dir.url, environment: env)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let cassette = try p.dir.read("expectations/cassettes/s/t.yaml")
    #expect(cassette.contains("url: http://127.0.0.1:\(p.server.port)/${GW_TOKEN}/v1/chat/completions"), "\(cassette)")
    for (name, text) in allFiles(under: p.dir.url) { #expect(!text.contains(token), "\(name) holds the token") }
    let replay = await CLI.run(["run", "--mode", "replay"], in: p.dir.url, environment: env)
    #expect(replay.status == 0, "\(replay.stdout)")
  }

  @Test func templatesAreRefusedWhereTheyWouldBeSentAsWritten() async throws {
    let dir = try TemporaryDirectory()
    try dir.write(
      "promptcheck.yaml",
      """
      providers:
        local:
          base_url: http://127.0.0.1:1/v1
          headers: {X-Title: "{{team}}"}
          model: m
      """)
    try dir.write("prompts/s.yaml", "tests:\n  - name: t\n    tags: [ok, \"{{tier}}\"]\n    prompt: hi\n")
    let r = await CLI.run(["validate"], in: dir.url)
    #expect(r.status == 2)
    #expect(
      r.stderr.contains(
        "promptcheck.yaml:4:24: error: 'providers.local.headers.X-Title' is not templated, so its {{…}} would stay as written"
      ), "\(r.stderr)")
    #expect(r.stderr.contains("prompts/s.yaml:3:16: error: 'tags' is not templated"), "\(r.stderr)")
  }
}

/// SIGTERM and SIGHUP (a CI runner cancelling a job, a closed terminal) end `run` as Ctrl-C
/// does: the `exec` assertion's child is killed, the report is written, the exit is 128+N.
@Suite(.serialized) struct SignalTests {
  @Test(arguments: [(SIGTERM, Int32(143)), (SIGHUP, Int32(129)), (SIGINT, Int32(130))])
  func aSignalEndsTheRunAndItsChildren(_ signal: Int32, _ status: Int32) async throws {
    let suite = """
      tests:
        - name: t
          prompt: hello
          assert:
            - exec: {command: "echo $$ > child.pid; exec sleep 60", timeout_ms: 120000}
      """
    let p = try Project(suites: ["s": suite], handler: echo)
    let process = try BinaryRunner.startLiveRun(in: p.dir.url)
    let pidFile = p.dir.url.appendingPathComponent("child.pid")
    var child: pid_t = 0
    #expect(
      await eventually(20) {
        child =
          pid_t(
            (try? String(contentsOf: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
          ?? 0
        return child > 0
      })
    // (The child has written its pid; give it the moment to reach its sleep.)
    try await Task.sleep(for: .milliseconds(200))
    let start = Date()
    process.signal(signal)
    let exit = await process.finished(within: 30)
    #expect(Date().timeIntervalSince(start) < 10)
    #expect(exit == status, "\(process.output)")
    let report = try JSON.parse(p.dir.read(".promptcheck/report.json"))
    #expect(report["summary"]?["errored"] == 1, "\(report)")
    #expect(await eventually(5) { kill(child, 0) != 0 && errno == ESRCH }, "the exec child \(child) is still running")
  }
}
