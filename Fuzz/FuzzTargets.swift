// libFuzzer entry points, compiled by Fuzz/run against the modules they exercise (not part
// of the package build). One binary serves every target; PROMPTCHECK_FUZZ_TARGET picks it:
// json, sse, jsonpath, yaml or http. Each target must never crash, hang or leak, whatever the bytes.

import Foundation

@testable import PromptCheckCore
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckServe

enum FuzzTarget: String {
  case json, sse, jsonpath, yaml, http

  static let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["PROMPTCHECK_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
      FileHandle.standardError.write(Data("PROMPTCHECK_FUZZ_TARGET must be json, sse, jsonpath, yaml or http\n".utf8))
      exit(2)
    }
    return t
  }()

  func run(_ bytes: [UInt8]) {
    switch self {
    case .json:
      // Parse, and a successful parse must serialize and parse back to the same value
      // (a number beyond the double range reads as infinity and is written as null).
      if let value = try? JSON.parse(bytes: bytes) {
        let again = try? JSON.parse(value.serialized())
        if again != finite(value) { fatalError("JSON round trip changed the value: \(value.serialized())") }
        _ = value.prettyPrinted(keys: .sorted)
      }
    case .sse:
      // A stream body: parse its events, then assemble them as a chat completion.
      let events = ServerSentEvents.parse(String(decoding: bytes, as: UTF8.self))
      _ = StreamAssembler.assemble(events)
    case .jsonpath:
      // First line: a JSONPath; the rest: a JSON document to run it on.
      let text = String(decoding: bytes, as: UTF8.self)
      let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
      guard let path = try? JSONPath(String(parts[0])) else { return }
      let document = parts.count > 1 ? (try? JSON.parse(String(parts[1]))) ?? .null : .null
      _ = try? path.select(document, deadline: .milliseconds(100))
      _ = try? path.selectWithPaths(document, deadline: .milliseconds(100))
    case .http:
      // A request head as `serve` reads it off a socket: parsed, or refused with a status, and
      // whatever it parses is consistent (a length that is a number, a request line of three).
      let end = bytes.firstRange(of: [13, 10, 13, 10]).map(\.upperBound) ?? bytes.count
      switch HTTPWire.parseHead(bytes[..<end]) {
      case .success(let head):
        if head.contentLength < 0 || head.method.isEmpty || !head.version.hasPrefix("HTTP/1.") {
          fatalError("parseHead accepted an inconsistent head: \(head)")
        }
        _ = LogText.escaped(head.path)
      case .failure(let bad):
        if ![400, 411].contains(bad.status) { fatalError("parseHead refused with \(bad.status)") }
      }
      _ = ServerSentEvents.limitProblem(bytes, maxEvents: 16, maxLineBytes: 256)
    case .yaml:
      // A suite file through the whole loader (libyaml events, nodes, the suite model).
      _ = SuiteLoader.load(bytes: bytes, file: "fuzz.yaml", name: "fuzz", config: Config())
      _ = ConfigLoader.load(text: String(decoding: bytes, as: UTF8.self), file: "promptcheck.yaml")
      // The event walk that reads cassettes must read every document as the tree does.
      let fast: Result<JSON, Diagnostic>
      do { fast = .success(try YAMLParser.parseJSON(bytes: bytes, file: "c.yaml")) } catch { fast = .failure(error) }
      let tree: Result<JSON, Diagnostic>
      do {
        tree = .success(try YAMLParser.parse(bytes: bytes, file: "c.yaml").json())
      } catch {
        tree = .failure(error)
      }
      switch (fast, tree) {
      case (.success(let a), .success(let b)) where a.serialized() == b.serialized(): break
      case (.failure(let a), .failure(let b)) where a.description == b.description: break
      default: fatalError("YAMLParser.parseJSON differs from the tree: \(fast) vs \(tree)")
      }
      _ = try? Cassette.parse(bytes: bytes, file: "c.yaml")
    }
  }
}

/// `value` with every non-finite number replaced by null, as serializing writes it.
func finite(_ value: JSON) -> JSON {
  switch value {
  case .double(let d) where !d.isFinite: return .null
  case .array(let items): return .array(items.map(finite))
  case .object(let o): return .object(JSONObject(o.members.map { ($0.key, finite($0.value)) }))
  default: return value
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data else { return 0 }
  FuzzTarget.selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}
