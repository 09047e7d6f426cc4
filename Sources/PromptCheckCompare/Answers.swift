import Foundation
import PromptCheckCore
import PromptCheckExecute
import PromptCheckReport

/// One case's answer as a comparison sees it, from a JSON report or from a cassette.
package struct Answer: Sendable, Equatable {
  package var id: String
  /// The answer as compared: the content, JSON in canonical form (sorted keys, pretty),
  /// tool calls as canonical JSON; per-call ids and timestamps never enter it.
  package var text: String
  /// From a report only.
  package var status: CaseStatus?
  package var tolerated = false
  package var usage: Completion.Usage?
  package var latencyMS: Int?
  /// The case has a golden (a golden file, or a golden comparison in the report).
  package var hasGolden = false
  /// A case of several steps: the tools it called in order and how many model calls it made.
  package var trajectory: Trajectory?
  /// A conversation case: each turn's user message and reply (README "Conversations").
  package var turns: [TurnText]?
}

/// One turn of a conversation as a comparison sees it.
package struct TurnText: Sendable, Equatable {
  package var user: String
  package var reply: String

  package init(user: String, reply: String) {
    self.user = user
    self.reply = reply
  }

  /// From a conversation's steps, its first user message the last of its request.
  static func turns(opening: String, steps: [Step]) -> [TurnText] {
    TurnView.turns(opening: opening, steps: steps).map {
      TurnText(user: $0.user, reply: $0.replyIndex.flatMap { steps[$0].completion?.content } ?? "")
    }
  }
}

/// What a looped case did, as a comparison sees it: its tool calls in order (arguments in
/// canonical JSON; call ids never enter it) and its model calls.
package struct Trajectory: Sendable, Equatable {
  package struct Call: Sendable, Equatable {
    package var name: String
    package var arguments: String

    package init(_ t: Completion.ToolCall) {
      name = t.name
      arguments = (try? JSON.parse(t.arguments))?.canonical ?? t.arguments
    }
  }

  package var calls: [Call]
  package var modelCalls: Int

  /// From a case's steps (a report's, or a cassette's as reports show them): the tool calls of
  /// its model (and app) steps.
  package init(steps: [ReportStep]) {
    let models = steps.filter { $0.kind == .model || $0.kind == .app }
    calls = models.flatMap(\.toolCalls).map(Call.init)
    modelCalls = models.count
  }

  package var names: [String] { calls.map(\.name) }

  /// A side that was a single request: one model call, its tool calls not counted as a trajectory.
  static var singleRequest: Trajectory {
    var t = Trajectory(steps: [])
    t.modelCalls = 1
    return t
  }
}

/// The answers of one side of a comparison, by case id.
package struct AnswerSet: Sendable {
  /// How the side is named in output (`main`, `report.json`, `working tree`).
  package var name: String
  package var answers: [String: Answer]
  /// The order cases are listed in (plan order for a report, file order for cassettes).
  package var order: [String]
  /// True when the answers come from a report (statuses, usage and latency are known).
  package var isReport: Bool
  /// A report's `metric:` totals (README "Assertions"): name, assertions passed, counted.
  package var metrics: [(name: String, passed: Int, total: Int)] = []

  /// From a JSON report (`run` or `merge`).
  package static func report(_ report: Report, name: String) -> AnswerSet {
    var answers: [String: Answer] = [:]
    for c in report.cases {
      var answer = Answer(
        id: c.id, text: Completion.canonical(content: c.output ?? ""), status: c.status, tolerated: c.tolerated,
        usage: c.usage, latencyMS: c.latencyMS, hasGolden: c.golden.status != .none)
      if c.steps.count > 1 { answer.trajectory = Trajectory(steps: c.steps) }
      if !c.turns.isEmpty { answer.turns = c.turns.map { TurnText(user: $0.user, reply: $0.reply ?? "") } }
      answers[c.id] = answer
    }
    var set = AnswerSet(name: name, answers: answers, order: report.cases.map(\.id), isReport: true)
    set.metrics = ReportTotals(report.cases).metrics
    return set
  }

  /// From the cassettes and goldens under an expectations folder: `files` maps each path
  /// relative to it (`cassettes/s/x.yaml`, `golden/s/x.txt`) to its text.
  package static func expectations(_ files: [String: String], name: String) -> Result<AnswerSet, CompareError> {
    var goldenStems = Set<String>()
    for path in files.keys where path.hasPrefix("golden/") {
      var stem = String(path.dropFirst("golden/".count))
      for ext in [".txt", ".json"] where stem.hasSuffix(ext) { stem.removeLast(ext.count) }
      goldenStems.insert(stem)
    }
    var answers: [String: Answer] = [:]
    var order: [String] = []
    for path in files.keys.sorted() where path.hasPrefix("cassettes/") && path.hasSuffix(".yaml") {
      guard let text = files[path] else { continue }
      let cassette: Cassette
      do {
        cassette = try Cassette.parse(text, file: path)
      } catch {
        return .failure(CompareError("\(name): \(error.message)"))
      }
      // A looped case's answer is its final one; its tokens and time those of all its model calls.
      guard case .success(let steps) = cassette.replayedSteps(),
        let final = steps.finalAnswerIndex.flatMap({ steps[$0].completion })
      else { continue }
      let stem = String(path.dropFirst("cassettes/".count).dropLast(".yaml".count))
      // A repetition's golden is its test's (no `--rN`).
      let groupStem = stem.replacingOccurrences(of: #"--r[0-9]+$"#, with: "", options: .regularExpression)
      var answer = Answer(
        id: cassette.caseID, text: Completion.canonical(content: final.content, toolCalls: final.toolCalls),
        usage: steps.count > 1 ? steps.totalUsage : final.usage,
        latencyMS: steps.count > 1 ? steps.answeredLatencyMS : final.latencyMS,
        hasGolden: goldenStems.contains(stem) || goldenStems.contains(groupStem))
      if steps.count > 1 { answer.trajectory = Trajectory(steps: steps.map(ReportStep.init)) }
      // A conversation's cassette holds user steps; its first message ends its request.
      if steps.contains(where: { $0.kind == .user }),
        let opening = cassette.requestBody["messages"]?.arrayValue?.lastUserText
      {
        answer.turns = TurnText.turns(opening: opening, steps: steps)
      }
      answers[cassette.caseID] = answer
      order.append(cassette.caseID)
    }
    return .success(AnswerSet(name: name, answers: answers, order: order, isReport: false))
  }
}

package struct CompareError: Error, Sendable, CustomStringConvertible {
  package var message: String
  package init(_ message: String) { self.message = message }
  package var description: String { message }
}

/// Reading a side: a JSON report, the working tree, or a git revision (through `git`, no checkout).
package enum AnswerSource {
  /// `spec` is a JSON report file, or a git revision; nil reads the working tree.
  package static func read(_ spec: String?, expectationsDir: String, _ ctx: CommandContext) -> Result<
    AnswerSet, CompareError
  > {
    guard let spec else {
      return AnswerSet.expectations(workingTree(ctx.absolute(expectationsDir)), name: "working tree")
    }
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: ctx.absolute(spec), isDirectory: &isDir), !isDir.boolValue {
      switch InputFile.read(ctx.absolute(spec), limit: 512 * 1024 * 1024) {
      case .failure(let p): return .failure(CompareError("cannot read '\(spec)': \(p)"))
      case .success(let bytes):
        switch JSONReport.parse(String(decoding: bytes, as: UTF8.self), file: spec) {
        case .failure(let e): return .failure(CompareError(e.message))
        case .success(let r): return .success(.report(r, name: spec))
        }
      }
    }
    return revision(spec, expectationsDir: expectationsDir, ctx).flatMap { AnswerSet.expectations($0, name: spec) }
  }

  static func workingTree(_ root: String) -> [String: String] {
    var files: [String: String] = [:]
    for sub in ["cassettes", "golden"] {
      guard let e = FileManager.default.enumerator(atPath: root + "/" + sub) else { continue }
      while let f = e.nextObject() as? String {
        let rel = sub + "/" + f
        guard f.hasSuffix(".yaml") || f.hasSuffix(".txt") || f.hasSuffix(".json") else { continue }
        if let data = FileManager.default.contents(atPath: root + "/" + rel) {
          files[rel] = String(decoding: data, as: UTF8.self)
        }
      }
    }
    return files
  }

  /// The expectations folder at a revision, read with `git ls-tree` and one `git cat-file --batch`.
  static func revision(_ rev: String, expectationsDir: String, _ ctx: CommandContext) -> Result<
    [String: String], CompareError
  > {
    guard !rev.hasPrefix("-") else { return .failure(CompareError("'\(rev)' is not a report file or a git revision")) }
    let prefixOut = Git.run(["rev-parse", "--show-prefix"], in: ctx.directory)
    guard case .success(let prefixData) = prefixOut else {
      return .failure(CompareError("'\(rev)' is not a report file, and this folder is not in a git repository"))
    }
    let prefix = String(decoding: prefixData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let base = (prefix + expectationsDir).replacingOccurrences(of: "//", with: "/")
    guard case .success = Git.run(["rev-parse", "--verify", "--quiet", rev + "^{commit}"], in: ctx.directory) else {
      return .failure(CompareError("'\(rev)' is not a report file or a git revision"))
    }
    let list: [UInt8]
    switch Git.run(["ls-tree", "-r", "-z", "--name-only", rev, "--", base + "/"], in: ctx.directory) {
    case .success(let l): list = l
    case .failure(let e): return .failure(CompareError("git cannot list \(expectationsDir) at \(rev): \(e.message)"))
    }
    let paths = list.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".txt") || $0.hasSuffix(".json") }
    guard !paths.isEmpty else { return .success([:]) }
    let input = paths.map { "\(rev):\($0)\n" }.joined()
    let out: [UInt8]
    switch Git.run(["cat-file", "--batch"], in: ctx.directory, input: Array(input.utf8)) {
    case .success(let o): out = o
    case .failure(let e): return .failure(CompareError("git cannot read \(expectationsDir) at \(rev): \(e.message)"))
    }
    // Each object: "<sha> blob <size>\n<content>\n".
    var files: [String: String] = [:]
    var i = 0
    for path in paths {
      guard let nl = out[i...].firstIndex(of: 10) else { break }
      let header = String(decoding: out[i..<nl], as: UTF8.self).split(separator: " ")
      guard header.count == 3, let size = Int(header[2]) else { break }
      let start = nl + 1
      let end = min(start + size, out.count)
      let rel = String(path.dropFirst(base.count + 1))
      files[rel] = String(decoding: out[start..<end], as: UTF8.self)
      i = end + 1
    }
    return .success(files)
  }
}

/// Runs `git`; its standard output, or a failure when it exits non-zero. Bounded: 1 GiB of
/// output (all of a revision's cassettes and goldens) and ten minutes.
package enum Git {
  static let maxOutput = 1 << 30
  static let timeoutMinutes = 10

  package static func run(_ arguments: [String], in directory: String, input: [UInt8] = []) -> Result<
    [UInt8], CompareError
  > {
    let what = "git \(arguments.first ?? "")"
    switch Subprocess.capture(
      ["git"] + arguments, input: input, timeoutMS: timeoutMinutes * 60_000, maxOutput: maxOutput, cwd: directory)
    {
    case .failure(let e):
      return .failure(CompareError("git could not be started: \(e.message)"))
    case .success(let r) where r.truncated:
      return .failure(CompareError("\(what) wrote more than \(maxOutput >> 20) MiB"))
    case .success(let r) where r.timedOut:
      return .failure(CompareError("\(what) did not finish in \(timeoutMinutes) minutes"))
    case .success(let r) where r.status != 0:
      // What git said (its last line, as "fatal: …"), or how it ended when it said nothing.
      let said =
        String(decoding: r.stderr.suffix(4096), as: UTF8.self).split(whereSeparator: \.isNewline)
        .last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
      let how = r.status.map { "exit status \($0)" } ?? "signal \(r.signal ?? 0)"
      return .failure(
        CompareError(said.isEmpty ? "\(what) failed (\(how))" : "\(what) failed: \(Excerpt.start(said, length: 300))"))
    case .success(let r):
      return .success(r.stdout)
    }
  }
}
