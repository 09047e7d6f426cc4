import Foundation
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

/// The RFC 9535 compliance test suite (Tests/Fixtures/jsonpath-cts/cts.json), every case.
@Suite struct JSONPathComplianceTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var selector: String
    var document: JSON?
    var results: [[JSON]]
    var resultPaths: [[String]]
    var invalid: Bool
    var testDescription: String { name }
  }

  static func loadCases() throws -> [Case] {
    let url = TestPaths.fixtures.appendingPathComponent("jsonpath-cts/cts.json")
    let data = try Data(contentsOf: url)
    let root = try JSON.parse(bytes: Array(data))
    guard let tests = root["tests"]?.arrayValue else { throw CTSError.badFile }
    return tests.map { t in
      var results: [[JSON]] = []
      var paths: [[String]] = []
      if let r = t["result"]?.arrayValue {
        results = [r]
        paths = [t["result_paths"]?.arrayValue?.compactMap(\.stringValue) ?? []]
      } else if let rs = t["results"]?.arrayValue {
        results = rs.compactMap(\.arrayValue)
        paths = (t["results_paths"]?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
      }
      return Case(
        name: t["name"]?.stringValue ?? "?", selector: t["selector"]?.stringValue ?? "",
        document: t["document"], results: results, resultPaths: paths,
        invalid: t["invalid_selector"] == .bool(true))
    }
  }

  enum CTSError: Error { case badFile }

  @Test func suiteHasAllCases() throws {
    let cases = try Self.loadCases()
    #expect(cases.count == 703)
    #expect(cases.filter(\.invalid).count == 247)
  }

  @Test func everyCasePasses() throws {
    var failures: [String] = []
    let cases = try Self.loadCases()
    for c in cases {
      if c.invalid {
        if (try? JSONPath(c.selector)) != nil { failures.append("\(c.name): accepted invalid \(c.selector)") }
        continue
      }
      let path: JSONPath
      do {
        path = try JSONPath(c.selector)
      } catch {
        failures.append("\(c.name): rejected valid \(c.selector): \(error)")
        continue
      }
      let doc = c.document ?? .null
      let got = try path.selectWithPaths(doc)
      let values = got.map(\.value)
      let paths = got.map(\.path)
      let matched = c.results.indices.contains { k in
        c.results[k] == values && (c.resultPaths.count <= k || c.resultPaths[k] == paths)
      }
      if !matched {
        failures.append("\(c.name): \(c.selector) gave \(JSON.array(values).serialized()) at \(paths)")
      }
      // select() (no paths) must agree with selectWithPaths().
      if try path.select(doc) != values { failures.append("\(c.name): select and selectWithPaths differ") }
    }
    #expect(
      failures.isEmpty, "\(failures.count) of \(cases.count) CTS cases failed:\n\(failures.joined(separator: "\n"))")
    #expect(cases.count - failures.count == 703)
  }
}
