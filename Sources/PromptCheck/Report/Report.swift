import Foundation

/// What the report writers need of a run. Built from a finished run, or read
/// back from JSON reports (`merge` combines shards this way).
public struct Report: Sendable {
  public var startedAt: Date
  public var durationMS: Int
  public var mode: String
  /// In plan order (the order of an unsharded run).
  public var cases: [ReportCase]

  public init(startedAt: Date, durationMS: Int, mode: String, cases: [ReportCase]) {
    self.startedAt = startedAt
    self.durationMS = durationMS
    self.mode = mode
    self.cases = cases
  }

  public init(_ summary: RunSummary) {
    self.init(
      startedAt: summary.startedAt, durationMS: summary.durationMS, mode: summary.mode.rawValue,
      cases: summary.results.map(ReportCase.init))
  }

  public var tally: Tally { Tally(cases.lazy.map { ($0.status, $0.tolerated) }) }
  public var passed: Int { tally.passed }
  public var failed: Int { tally.failed }
  public var tolerated: Int { tally.tolerated }
  public var errored: Int { tally.errored }
  public var skipped: Int { tally.skipped }
  public var problems: [ReportCase] {
    cases.filter { ($0.status == .failed && !$0.tolerated) || $0.status == .errored }
  }
}

public struct ReportCase: Sendable {
  public struct Assertion: Sendable, Equatable {
    public var kind: String
    public var passed: Bool
    /// `assert[1] contains: expected …`
    public var message: String
  }

  public struct Usage: Sendable, Equatable {
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var totalTokens: Int?
    public var cost: Double?
  }

  /// Position in the unsharded plan.
  public var index: Int
  public var id: String
  public var suite: String
  public var name: String
  public var file: String
  public var line: Int
  public var status: CaseStatus
  public var tolerated: Bool
  public var durationMS: Int
  public var output: String?
  public var reasoning: String?
  /// Why it could not run, or the skip reason.
  public var error: String?
  public var assertions: [Assertion]
  public var golden: GoldenReport
  public var cassette: CassetteReport
  public var attempts: Int
  public var notes: [String]
  public var latencyMS: Int?
  public var model: String?
  public var provider: String?
  public var usage: Usage?
  public var messages: [JSON]

  public var failedAssertions: [Assertion] { assertions.filter { !$0.passed } }
  /// The case id without its suite: the JUnit testcase name.
  public var shortName: String { id.hasPrefix(suite + "/") ? String(id.dropFirst(suite.count + 1)) : id }

  public init(_ r: CaseResult) {
    let c = r.plannedCase
    index = c.index
    id = c.id
    suite = c.suite
    name = c.testName
    file = c.suiteFile
    line = c.location.line
    status = r.status
    tolerated = r.tolerated
    durationMS = r.durationMS
    output = r.completion?.content
    reasoning = r.completion.flatMap { $0.reasoning.isEmpty ? nil : $0.reasoning }
    error = r.error
    assertions = r.findings.map { Assertion(kind: $0.kind, passed: $0.passed, message: $0.description) }
    golden = r.golden
    cassette = r.cassette
    attempts = r.attempts
    notes = r.notes
    latencyMS = r.completion?.latencyMS
    model = r.completion?.model
    provider = r.completion?.provider
    usage = r.completion?.usage.map {
      Usage(
        promptTokens: $0.promptTokens, completionTokens: $0.completionTokens, totalTokens: $0.totalTokens, cost: $0.cost
      )
    }
    messages = c.variant.messages
  }

  /// Reads a case of a JSON report; nil when it is not one.
  public init?(json o: JSON, fallbackIndex: Int) {
    guard let id = o["id"]?.stringValue, let status = o["status"]?.stringValue.flatMap(CaseStatus.init(rawValue:))
    else {
      return nil
    }
    func int(_ v: JSON?) -> Int? {
      switch v {
      case .int(let i)?: return i
      case .double(let d)?: return Int(exactly: d)
      default: return nil
      }
    }
    index = int(o["index"]) ?? fallbackIndex
    self.id = id
    suite = o["suite"]?.stringValue ?? ""
    name = o["name"]?.stringValue ?? ""
    file = o["file"]?.stringValue ?? ""
    line = int(o["line"]) ?? 0
    self.status = status
    tolerated = o["tolerated"] == .bool(true)
    durationMS = int(o["duration_ms"]) ?? 0
    output = o["output"]?.stringValue
    reasoning = o["reasoning"]?.stringValue
    error = o["error"]?.stringValue
    assertions = (o["assertions"]?.arrayValue ?? []).map {
      Assertion(
        kind: $0["kind"]?.stringValue ?? "", passed: $0["passed"] == .bool(true),
        message: $0["message"]?.stringValue ?? "")
    }
    golden = GoldenReport(
      status: o["golden"]?["status"]?.stringValue.flatMap(GoldenReport.Status.init(rawValue:)) ?? .none,
      path: o["golden"]?["path"]?.stringValue, diff: o["golden"]?["diff"]?.stringValue)
    cassette = CassetteReport(
      path: o["cassette"]?["path"]?.stringValue ?? "",
      status: o["cassette"]?["status"]?.stringValue.flatMap(CassetteReport.Status.init(rawValue:)) ?? .none)
    attempts = int(o["attempts"]) ?? 0
    notes = o["notes"]?.arrayValue?.compactMap(\.stringValue) ?? []
    latencyMS = int(o["latency_ms"])
    model = o["model"]?.stringValue
    provider = o["provider"]?.stringValue
    if let u = o["usage"], u.objectValue != nil {
      usage = Usage(
        promptTokens: int(u["prompt_tokens"]), completionTokens: int(u["completion_tokens"]),
        totalTokens: int(u["total_tokens"]), cost: u["cost"]?.numberValue)
    }
    messages = o["messages"]?.arrayValue ?? []
  }
}
