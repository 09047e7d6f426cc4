// Benchmarks for promptcheck. Speed targets live here, measured on a release build
// over many cases, never in timed unit tests.
//
//   swift run -c release promptcheck-bench assertions [ITERATIONS]
//   swift run -c release promptcheck-bench live [CASES] [JOBS] [LATENCY_MS]
//   swift run -c release promptcheck-bench replay [CASES...]
//   swift run -c release promptcheck-bench replay-scale [CASES...]
//   swift run -c release promptcheck-bench replay-loop [CASES]
//   swift run -c release promptcheck-bench serve [CLIENTS] [REQUESTS]
//   swift run -c release promptcheck-bench rate-limit [CASES] [RATE] [LATENCY_MS]
//   swift run -c release promptcheck-bench watch [CASES] [ROUNDS]
//   swift run -c release promptcheck-bench view [CASES]
import CLibYAML
import Foundation
import LoopbackServer
import PromptCheck
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

func usage() -> Never {
  print(
    """
    usage: promptcheck-bench BENCHMARK [ARGS]
      assertions [N]   evaluate 5 assertions (incl. a regex and a json-path) on a 2 KB output, N completions
      live [CASES] [JOBS] [LATENCY_MS]
                       run CASES live cases against a loopback server answering after LATENCY_MS (500 50 200)
      replay [CASES...] replay cassette-backed cases, 3 assertions each (1000 10000)
      replay-scale [CASES...]
                       replay 1k, 10k and 100k cases (cassettes written directly) in suite files of 10,000
                       and in 1,000 suite files: wall, CPU, peak RSS, and the ratio to libyaml's floor
      replay-loop [CASES]
                       replay CASES looped cases of 4 model steps and CASES one-step cases: cost per model step (1000)
      serve [CLIENTS] [REQUESTS]
                       promptcheck serve against Python's http.server: req/s and latency, keep-alive clients (16 2000)
      rate-limit [CASES] [RATE] [LATENCY_MS]
                       live runs against a token-bucket server (burst 5, 429 beyond it) at --jobs 4, 16, 64 (400 20 50)
      watch [CASES] [ROUNDS]
                       watch: from saving one suite to the printed result, median of ROUNDS saves (1000 11)
      view [CASES]     view: the grid's first page of a CASES-case report (10000)
    """)
  exit(2)
}

/// CPU time of this process so far, in seconds.
func cpuSeconds() -> Double {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func benchAssertions(iterations: Int) throws {
  // A typical structured answer of about 2 KB.
  var items: [String] = []
  for i in 0..<10 {
    items.append(
      "{\"sku\": \"SKU-\(1000 + i)\", \"name\": \"Item number \(i) with a descriptive name\", \"price\": \(i).99, \"in_stock\": \(i % 2 == 0)}"
    )
  }
  let answer = String(repeating: "Refunds are accepted within 30 days of delivery when the item is unused. ", count: 12)
  let output = "{\"answer\": \"\(answer)\", \"items\": [\(items.joined(separator: ", "))]}"
  let suite = """
    tests:
      - name: typical
        prompt: x
        assert:
          - contains: "30 days"
          - not-contains: "As an AI"
          - regex: '\\bwithin\\s+30\\s+days\\b'
          - json-path: {path: "$.items[?@.in_stock == true].sku", count: 5}
          - length: {min: 100, max: 4000}
    """
  let (loaded, diagnostics) = SuiteLoader.load(text: suite, file: "bench.yaml", name: "bench", config: Config())
  guard let assertions = loaded?.tests.first?.variants.first?.assertions, diagnostics.isEmpty else {
    print(diagnostics.map(\.description).joined(separator: "\n"))
    exit(1)
  }
  let evaluator = AssertionEvaluator()
  // Warm up, and check the benchmark measures passing assertions.
  let check = evaluator.evaluate(assertions, on: Completion(content: output))
  guard check.allSatisfy(\.passed) else {
    print("benchmark assertions do not pass: \(check.filter { !$0.passed }.map(\.description))")
    exit(1)
  }
  let clock = ContinuousClock()
  let cpu0 = cpuSeconds()
  var passed = 0
  let elapsed = clock.measure {
    for _ in 0..<iterations {
      // A new completion each time: nothing is cached across cases.
      let findings = evaluator.evaluate(assertions, on: Completion(content: output))
      passed += findings.count(where: \.passed)
    }
  }
  let cpu = cpuSeconds() - cpu0
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  let evaluations = iterations * assertions.count
  print("output: \(output.utf8.count) bytes; assertions per case: \(assertions.count)")
  print(
    "evaluations: \(evaluations) (\(passed) passed) in \(String(format: "%.3f", seconds)) s wall, \(String(format: "%.3f", cpu)) s CPU"
  )
  print("throughput: \(Int(Double(evaluations) / seconds)) assertion evaluations/s on one core")
}

/// What one child process used, from wait4(2).
struct ChildRun {
  var status: Int32
  var wall: Double
  var cpu: Double
  var maxRSSKB: Int
}

/// Starts `argv` (a path, or a name on PATH) in `directory` with its standard output on
/// /dev/null, through posix_spawn (Foundation's `Process.run()` can crash a process with many
/// descriptors open; see `Subprocess.capture`). The caller waits for it.
func startQuietly(_ argv: [String], in directory: String? = nil) -> pid_t? {
  let cArgs = argv.map { strdup($0) } + [nil]
  defer { cArgs.forEach { free($0) } }
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
  defer { posix_spawn_file_actions_destroy(&actions) }
  // The child starts in `directory` (the benchmark's other threads do not depend on it).
  let previous = FileManager.default.currentDirectoryPath
  if let directory { _ = FileManager.default.changeCurrentDirectoryPath(directory) }
  defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
  var pid: pid_t = 0
  guard posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return nil }
  return pid
}

/// Runs the release `promptcheck` binary (next to this one) in `directory`.
func runPromptcheck(_ args: [String], in directory: String) -> ChildRun {
  let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
    "promptcheck"
  ).path
  let clock = ContinuousClock()
  let start = clock.now
  guard let pid = startQuietly([binary] + args, in: directory) else {
    print("cannot start \(binary); build it first: swift build -c release")
    exit(1)
  }
  var status: Int32 = 0
  var usage = rusage()
  wait4(pid, &status, 0, &usage)
  let elapsed = clock.now - start
  let cpu =
    Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
    + Double(usage.ru_stime.tv_usec) / 1e6
  return ChildRun(
    status: (status >> 8) & 0xFF,
    wall: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, cpu: cpu,
    maxRSSKB: usage.ru_maxrss)
}

func makeProject(cases: Int, baseURL: String, assertions: String) throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("promptcheck-bench-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir + "/prompts", withIntermediateDirectories: true)
  try "providers:\n  local:\n    base_url: \(baseURL)\n    model: bench-model\n".write(
    toFile: dir + "/promptcheck.yaml", atomically: true, encoding: .utf8)
  var suite = "defaults:\n  params: {temperature: 0, seed: 42}\n  assert:\n\(assertions)tests:\n"
  for i in 0..<cases { suite += "  - {name: case \(i), prompt: \"Question number \(i): what is \(i) plus \(i)?\"}\n" }
  try suite.write(toFile: dir + "/prompts/bench.yaml", atomically: true, encoding: .utf8)
  return dir
}

let answerServer: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
  let question = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
  return .json(
    FakeOpenAI.completion("The answer to \"\(question)\" is below.\nResult: 42 (checked twice).", model: "bench-model"))
}

func benchLive(cases: Int, jobs: Int, latencyMS: Int) throws {
  let latency = Double(latencyMS) / 1000
  let server = try LoopbackServer { request, attempt in .delayed(latency, answerServer(request, attempt)) }
  defer { server.stop() }
  let dir = try makeProject(cases: cases, baseURL: server.baseURL, assertions: "    - contains: Result\n")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let ideal = Double((cases + jobs - 1) / jobs) * latency
  let run = runPromptcheck(["run", "--mode", "live", "-j", "\(jobs)", "--quiet"], in: dir)
  print("live: \(cases) cases, --jobs \(jobs), \(latencyMS) ms per answer; exit \(run.status)")
  print(
    String(
      format: "wall %.3f s (ideal %.3f s, +%.1f%%); CPU %.3f s = %.2f ms per request; peak RSS %d MB",
      run.wall, ideal, (run.wall / ideal - 1) * 100, run.cpu, run.cpu / Double(cases) * 1000, run.maxRSSKB / 1024))
  print("requests seen by the server: \(server.requests.count), connections: \(server.connectionCount)")
}

func benchReplay(_ counts: [Int]) throws {
  let server = try LoopbackServer(handler: answerServer)
  defer { server.stop() }
  for cases in counts {
    let dir = try makeProject(
      cases: cases, baseURL: server.baseURL,
      assertions: "    - contains: Result\n    - regex: '\\b42\\b'\n    - not-icontains: sorry\n")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let record = runPromptcheck(["run", "--mode", "record", "-j", "32", "--quiet"], in: dir)
    guard record.status == 0 else {
      print("recording failed (exit \(record.status))")
      exit(1)
    }
    var runs: [ChildRun] = []
    for _ in 0..<5 { runs.append(runPromptcheck(["run", "--mode", "replay", "--quiet"], in: dir)) }
    guard runs.allSatisfy({ $0.status == 0 }) else {
      print("replay failed: \(runs.map(\.status))")
      exit(1)
    }
    let walls = runs.map(\.wall).sorted()
    print(
      String(
        format: "replay: %5d cases x 3 assertions: median wall %.3f s (min %.3f, max %.3f), CPU %.3f s, peak RSS %d MB",
        cases, walls[2], walls[0], walls[4], runs.map(\.cpu).sorted()[2], (runs.map(\.maxRSSKB).max() ?? 0) / 1024))
  }
}

/// A project of `cases` replayable cases whose cassettes are written as `run --mode record`
/// writes them (same request body, same layout), without a server: 100,000 recordings over
/// HTTP would take longer than the replay being measured.
func makeRecordedProject(cases: Int, perSuite: Int = 10_000) throws -> String {
  let dir = try makeProject(
    cases: 0, baseURL: "http://127.0.0.1:9/v1",
    assertions: "    - contains: Result\n    - regex: '\\b42\\b'\n    - not-icontains: sorry\n")
  // Suites of at most `perSuite` tests each (10,000 at most: a suite file may be 4 MiB).
  let header = try String(contentsOfFile: dir + "/prompts/bench.yaml", encoding: .utf8)
  try FileManager.default.removeItem(atPath: dir + "/prompts/bench.yaml")
  for start in stride(from: 0, to: cases, by: perSuite) {
    let suite = start == 0 ? "bench" : "bench\(start / perSuite)"
    var text = header
    for i in start..<min(cases, start + perSuite) {
      text += "  - {name: case \(i), prompt: \"Question number \(i): what is \(i) plus \(i)?\"}\n"
    }
    try text.write(toFile: dir + "/prompts/\(suite).yaml", atomically: false, encoding: .utf8)
    try FileManager.default.createDirectory(
      atPath: dir + "/expectations/cassettes/\(suite)", withIntermediateDirectories: true)
  }
  for i in 0..<cases {
    let suite = i < perSuite ? "bench" : "bench\(i / perSuite)"
    let folder = dir + "/expectations/cassettes/\(suite)"
    let question = "Question number \(i): what is \(i) plus \(i)?"
    let text = """
      # promptcheck cassette: recorded interaction for \(suite)/case-\(i). Re-record with promptcheck run --mode record.
      version: 1
      promptcheck: '0.1.0'
      case: \(suite)/case-\(i)
      recorded_at: '2026-11-27T00:00:00Z'
      duration_ms: 200
      request:
        method: POST
        url: http://127.0.0.1:9/v1/chat/completions
        headers:
          Content-Type: application/json
        body:
          model: bench-model
          messages:
          - role: user
            content: '\(question)'
          temperature: 0
          seed: 42
      response:
        status: 200
        headers:
          content-type: application/json
        body:
          id: chatcmpl-1
          object: chat.completion
          created: 1700000000
          model: bench-model
          choices:
          - index: 0
            message:
              role: assistant
              content: |-
                The answer to "\(question)" is below.
                Result: 42 (checked twice).
            finish_reason: stop
          usage:
            prompt_tokens: 10
            completion_tokens: 5
            total_tokens: 15

      """
    try text.write(toFile: folder + "/case-\(i).yaml", atomically: false, encoding: .utf8)
  }
  return dir
}

/// Replay at growing scale: the wall time, CPU and peak memory of 1k, 10k and 100k cases, in
/// suite files of 10,000 cases and in 1,000 suite files, so growth shows; and the floor: reading
/// and parsing the same cassettes with libyaml's event API alone, and the ratio to it.
func benchReplayScale(_ counts: [Int]) throws {
  for cases in counts {
    for suites in [max(1, (cases + 9_999) / 10_000), 1_000] where suites <= cases {
      let dir = try makeRecordedProject(cases: cases, perSuite: (cases + suites - 1) / suites)
      // PROMPTCHECK_BENCH_KEEP=1 keeps the project, to profile a run of it.
      let keep = ProcessInfo.processInfo.environment["PROMPTCHECK_BENCH_KEEP"] == "1"
      defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } }
      if keep { print("project: \(dir)") }
      let runs = (0..<(cases >= 100_000 ? 1 : 3)).map { _ in
        // The files just written (the project, the last run's reports) go to the disk first: the
        // kernel writing them back while the run is timed is not the run's cost.
        sync()
        return runPromptcheck(["run", "--mode", "replay", "--quiet"], in: dir)
      }
      guard runs.allSatisfy({ $0.status == 0 }) else {
        print("replay failed: \(runs.map(\.status))")
        exit(1)
      }
      let median = runs.sorted { $0.wall < $1.wall }[runs.count / 2]
      let floor = libyamlFloor(dir + "/expectations/cassettes")
      print(
        String(
          format:
            "replay-scale: %6d cases in %4d suite files: wall %.3f s, CPU %.3f s, peak RSS %d MB (%@); libyaml floor %.3f s CPU, ratio %.2f×",
          cases, suites, median.wall, median.cpu, median.maxRSSKB / 1024,
          runs.count > 1 ? "median of \(runs.count)" : "one run", floor, median.cpu / floor))
    }
  }
}

/// CPU seconds to read every cassette under `root` and parse it with libyaml's event API alone
/// (no tree, no values): what any replay of them costs at least. The median of three passes.
func libyamlFloor(_ root: String) -> Double {
  var files: [String] = []
  if let e = FileManager.default.enumerator(atPath: root) {
    for case let f as String in e where f.hasSuffix(".yaml") { files.append(root + "/" + f) }
  }
  var passes: [Double] = []
  for _ in 0..<3 {
    let start = cpuSeconds()
    var events = 0
    for path in files {
      guard let data = FileManager.default.contents(atPath: path) else { continue }
      var parser = yaml_parser_t()
      guard yaml_parser_initialize(&parser) == 1 else { continue }
      data.withUnsafeBytes { raw in
        yaml_parser_set_input_string(
          &parser, raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        var event = yaml_event_t()
        while yaml_parser_parse(&parser, &event) == 1 {
          let type = event.type
          yaml_event_delete(&event)
          events += 1
          if type == YAML_STREAM_END_EVENT { break }
        }
      }
      yaml_parser_delete(&parser)
    }
    passes.append(cpuSeconds() - start)
    if events == 0 { print("libyaml floor: no events read under \(root)") }
  }
  return passes.sorted()[1]
}

/// An agent that calls `lookup` three times (one call per answer), then answers: 4 model calls.
let loopServer: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, _ in
  let messages = request.json?["messages"]?.arrayValue ?? []
  let results = messages.count { $0["role"] == "tool" }
  guard results < 3 else {
    return .json(FakeOpenAI.completion("Found it after \(results) lookups.\nResult: 42", model: "bench-model"))
  }
  return .json(FakeOpenAI.toolCalls([("lookup", #"{"page":\#(results + 1)}"#)], model: "bench-model"))
}

/// Replays looped cases of 4 model steps (3 mocked tool calls) beside as many one-step cases, each
/// recorded first from a loopback server: the cost of a model step in a loop against a whole
/// one-step case (the target: within 1.5×).
func benchReplayLoop(cases: Int) throws {
  let server = try LoopbackServer(handler: loopServer)
  let oneStepServer = try LoopbackServer(handler: answerServer)
  defer {
    server.stop()
    oneStepServer.stop()
  }
  var results: [(name: String, steps: Int, run: ChildRun)] = []
  for looped in [false, true] {
    let dir = try makeProject(
      cases: cases, baseURL: (looped ? server : oneStepServer).baseURL,
      assertions: "    - contains: Result\n    - regex: '\\b42\\b'\n")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    if looped {
      var suite = """
        defaults:
          params:
            temperature: 0
            seed: 42
            tools:
              - {type: function, function: {name: lookup, parameters: {type: object, properties: {page: {type: integer}}}}}
          assert:
            - contains: Result
            - tool-used: {name: lookup, min: 3}
        mocks: {lookup: {found: true, rows: [1, 2, 3]}}
        tests:

        """
      for i in 0..<cases { suite += "  - {name: case \(i), prompt: \"Question number \(i): find \(i)\"}\n" }
      try suite.write(toFile: dir + "/prompts/bench.yaml", atomically: true, encoding: .utf8)
    }
    let record = runPromptcheck(["run", "--mode", "record", "-j", "16", "--quiet"], in: dir)
    guard record.status == 0 else {
      print("recording failed (exit \(record.status))")
      exit(1)
    }
    var runs: [ChildRun] = []
    for _ in 0..<5 {
      sync()
      runs.append(runPromptcheck(["run", "--mode", "replay", "--quiet"], in: dir))
    }
    guard runs.allSatisfy({ $0.status == 0 }) else {
      print("replay failed: \(runs.map(\.status))")
      exit(1)
    }
    let median = runs.sorted { $0.wall < $1.wall }[2]
    results.append((looped ? "looped (4 model steps)" : "one-step", looped ? 4 : 1, median))
  }
  for r in results {
    let steps = Double(cases * r.steps)
    print(
      String(
        format:
          "replay-loop: %5d %@ cases: wall %.3f s, CPU %.3f s, peak RSS %d MB; per model step %.1f µs wall, %.1f µs CPU",
        cases, r.name, r.run.wall, r.run.cpu, r.run.maxRSSKB / 1024, r.run.wall / steps * 1e6,
        r.run.cpu / steps * 1e6))
  }
  let one = results[0].run
  let loop = results[1].run
  print(
    String(
      format: "replay-loop: a looped model step costs %.2f× a one-step case (wall), %.2f× (CPU); target ≤ 1.5×",
      loop.wall / 4 / one.wall, loop.cpu / 4 / one.cpu))
}

let args = CommandLine.arguments.dropFirst()
switch args.first {
case "assertions":
  try benchAssertions(iterations: args.dropFirst().first.flatMap { Int($0) } ?? 50_000)
case "live":
  let n = args.dropFirst().compactMap { Int($0) }
  try benchLive(cases: n.first ?? 500, jobs: n.count > 1 ? n[1] : 50, latencyMS: n.count > 2 ? n[2] : 200)
case "replay":
  let n = args.dropFirst().compactMap { Int($0) }
  try benchReplay(n.isEmpty ? [1000, 10_000] : n)
case "replay-scale":
  let n = args.dropFirst().compactMap { Int($0) }
  try benchReplayScale(n.isEmpty ? [1000, 10_000, 100_000] : n)
case "replay-loop":
  try benchReplayLoop(cases: args.dropFirst().first.flatMap { Int($0) } ?? 1000)
case "serve":
  let n = args.dropFirst().compactMap { Int($0) }
  try benchServe(clients: n.first ?? 16, requestsPerClient: n.count > 1 ? n[1] : 2000)
case "rate-limit":
  let n = args.dropFirst().compactMap { Int($0) }
  try benchRateLimit(
    cases: n.first ?? 400, rate: Double(n.count > 1 ? n[1] : 20), latencyMS: n.count > 2 ? n[2] : 50)
case "watch":
  let n = args.dropFirst().compactMap { Int($0) }
  try await benchWatch(cases: n.first ?? 1000, rounds: n.count > 1 ? n[1] : 11)
case "view":
  try await benchView(cases: args.dropFirst().first.flatMap { Int($0) } ?? 10_000)
default:
  usage()
}
