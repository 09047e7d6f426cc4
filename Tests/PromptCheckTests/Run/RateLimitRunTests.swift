import Foundation
import LoopbackServer
import Synchronization
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckExecute

/// A run against a provider that refuses every other request with 429: the summary and the JSON
/// report say what was sent and refused; `--no-adapt` spends retries on them instead.
@Suite struct RateLimitRunTests {
  static let suite = """
    tests:
      - {name: one, prompt: first, assert: [{contains: "Echo"}]}
      - {name: two, prompt: second, assert: [{contains: "Echo"}]}
      - {name: three, prompt: third, assert: [{contains: "Echo"}]}
    """

  /// Refuses each question the first time it is asked (Retry-After 0.05 s, OpenAI's headers).
  static func firstTimeRefused() -> @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply {
    let seen = SeenQuestions()
    return { request, attempt in
      let question = request.json?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
      if seen.firstTime(question) {
        return .json(
          ["error": ["message": "Rate limit reached for requests", "code": 429]], status: 429,
          headers: [
            ("Retry-After", "0.05"), ("x-ratelimit-limit-requests", "10"), ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "50ms"),
          ])
      }
      return echo(request, attempt)
    }
  }

  @Test func theSummaryAndReportCountRequestsAndRefusals() async throws {
    let project = try Project(suites: ["s": Self.suite], handler: Self.firstTimeRefused())
    let result = await project.run(["--mode", "live", "--retries", "0", "-j", "2"])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("requests: 6 sent, 3 rate-limited (429), waited "), "\(result.stdout)")
    #expect(result.stdout.contains("; window "))
    let report = try JSON.parse(bytes: Array(project.dir.read(".promptcheck/report.json").utf8))
    let requests = try #require(report["summary"]?["requests"])
    #expect(requests["sent"] == 6)
    #expect(requests["rate_limited"] == 3)
    #expect(requests["waits"] == 3)
    #expect((requests["wait_s"]?.numberValue ?? 0) >= 0.149)
    #expect(requests["jobs"] == 2)
    #expect(try !project.dir.read(".promptcheck/report.json").contains("sk-test"))
  }

  @Test func noAdaptSpendsTheRetries() async throws {
    let project = try Project(suites: ["s": Self.suite], handler: Self.firstTimeRefused())
    let result = await project.run(["--mode", "live", "--retries", "0", "--no-adapt"])
    // No retry to spend: each case errors on its 429.
    #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("requests: 3 sent, 3 rate-limited (429); window 8 of 8"), "\(result.stdout)")
    let report = try JSON.parse(bytes: Array(project.dir.read(".promptcheck/report.json").utf8))
    #expect(report["summary"]?["errored"] == 3)
    #expect(report["summary"]?["requests"]?["waits"] == 0)
  }

  @Test func aReplaySendsNothingAndSaysNothingOfRequests() async throws {
    let project = try Project(suites: ["s": Self.suite], handler: echo)
    #expect(await project.run(["--mode", "record"]).status == 0)
    let replay = await project.run(["--mode", "replay"])
    #expect(replay.status == 0)
    #expect(!replay.stdout.contains("requests:"))
    let report = try JSON.parse(bytes: Array(project.dir.read(".promptcheck/report.json").utf8))
    #expect(report["summary"]?["requests"] == nil)
  }
}

/// The questions a handler has seen (the handler runs on the server's threads).
final class SeenQuestions: Sendable {
  let seen = Mutex(Set<String>())
  func firstTime(_ q: String) -> Bool { seen.withLock { $0.insert(q).inserted } }
}
