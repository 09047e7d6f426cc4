// Benchmarks for promptcheck. Speed targets live here, measured on a release build
// over many cases, never in timed unit tests.
//
//   swift run -c release promptcheck-bench assertions [ITERATIONS]
import Foundation
import PromptCheck

func usage() -> Never {
  print("""
    usage: promptcheck-bench BENCHMARK [ARGS]
      assertions [N]   evaluate 5 assertions (incl. a regex and a json-path) on a 2 KB output, N completions
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
    items.append("{\"sku\": \"SKU-\(1000 + i)\", \"name\": \"Item number \(i) with a descriptive name\", \"price\": \(i).99, \"in_stock\": \(i % 2 == 0)}")
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
  print("evaluations: \(evaluations) (\(passed) passed) in \(String(format: "%.3f", seconds)) s wall, \(String(format: "%.3f", cpu)) s CPU")
  print("throughput: \(Int(Double(evaluations) / seconds)) assertion evaluations/s on one core")
}

let args = CommandLine.arguments.dropFirst()
switch args.first {
case "assertions":
  try benchAssertions(iterations: args.dropFirst().first.flatMap { Int($0) } ?? 50_000)
default:
  usage()
}
