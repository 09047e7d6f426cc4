import Foundation
import PromptCheckCore

/// How well two raters agree on pass/fail (README "The local loop"): the judge's recorded
/// verdicts against people's labels.
package struct Agreement: Sendable, Equatable {
  /// Counts by (judge, person): both pass, judge pass & person fail, judge fail & person pass, both fail.
  package var bothPass = 0
  package var judgePassPersonFail = 0
  package var judgeFailPersonPass = 0
  package var bothFail = 0

  package init(bothPass: Int = 0, judgePassPersonFail: Int = 0, judgeFailPersonPass: Int = 0, bothFail: Int = 0) {
    self.bothPass = bothPass
    self.judgePassPersonFail = judgePassPersonFail
    self.judgeFailPersonPass = judgeFailPersonPass
    self.bothFail = bothFail
  }

  package mutating func add(judge: Bool, person: Bool) {
    switch (judge, person) {
    case (true, true): bothPass += 1
    case (true, false): judgePassPersonFail += 1
    case (false, true): judgeFailPersonPass += 1
    case (false, false): bothFail += 1
    }
  }

  package var count: Int { bothPass + judgePassPersonFail + judgeFailPersonPass + bothFail }

  /// The share of labels the judge agrees with.
  package var observed: Double? { count == 0 ? nil : Double(bothPass + bothFail) / Double(count) }

  /// The agreement two raters with these pass rates reach by chance.
  package var chance: Double? {
    guard count > 0 else { return nil }
    let n = Double(count)
    let judgePass = Double(bothPass + judgePassPersonFail) / n
    let personPass = Double(bothPass + judgeFailPersonPass) / n
    return judgePass * personPass + (1 - judgePass) * (1 - personPass)
  }

  /// Cohen's κ = (observed − chance) / (1 − chance); nil when there is nothing to measure — no
  /// labels, or both raters gave one verdict only (chance is then 1).
  package var kappa: Double? {
    guard let po = observed, let pe = chance, pe < 1 else { return nil }
    return (po - pe) / (1 - pe)
  }
}

/// One judged assertion (as declared: its file and line) measured against the labels.
package struct AssertionCalibration: Sendable {
  package var file: String
  package var line: Int
  package var kind: String
  /// The rubric, reference or command, short, for the table.
  package var what: String
  package var agreement = Agreement()
  /// Labels whose answer changed since they were given: not counted.
  package var stale = 0
  /// Over repeated tests: the share of repetitions that gave their test's majority verdict; nil without repeats.
  package var selfConsistency: Double?
  /// The labels the judge disagreed with, as `case assert[N]`.
  package var disagreements: [String] = []
  package var gate: CalibrationGate?

  /// Why the gate fails; nil when it holds or there is none.
  package var gateFailure: String? {
    guard let gate else { return nil }
    let n = agreement.count
    if n < gate.minLabels {
      return "\(n) label\(n == 1 ? "" : "s"), min_labels is \(gate.minLabels)"
    }
    guard let k = agreement.kappa else {
      // Both raters gave one verdict only: it holds only if they gave the same one.
      return agreement.observed == 1 ? nil : "κ is undefined (one verdict only) and they disagree"
    }
    return k + 1e-12 >= gate.minKappa ? nil : "κ \(Calibration.format(k)) is below min_kappa \(gate.minKappa)"
  }

  /// The figures a gate's line gives: "5 labels, agreement 80%, κ 0.62".
  package var figures: String {
    let a = agreement
    return "\(a.count) label\(a.count == 1 ? "" : "s"), agreement \(a.observed.map(Calibration.percent) ?? "n/a"), "
      + "κ \(a.kappa.map(Calibration.format) ?? "n/a")"
  }
}

/// Calibration of every judged assertion with labels, from a report's recorded verdicts.
package enum Calibration {
  /// The report's judged assertions against the labels by suite. `gates` are the declared
  /// `min_kappa` thresholds by "file:line"; `filters` keep the cases whose id contains one.
  package static func measure(
    report: JSON, labels: [String: [Label]], gates: [String: CalibrationGate] = [:], filters: [String] = []
  ) -> [AssertionCalibration] {
    var byKey: [String: Label] = [:]
    for (_, list) in labels { for l in list { byKey[l.key] = l } }
    var groups: [String: AssertionCalibration] = [:]
    var order: [String] = []
    // Verdicts of repeated tests, by assertion and test: for self-consistency.
    var repeats: [String: [String: [Bool]]] = [:]
    for c in report["cases"]?.arrayValue ?? [] {
      guard let id = c["id"]?.stringValue, let file = c["file"]?.stringValue else { continue }
      if !filters.isEmpty && !filters.contains(where: { id.contains($0) }) { continue }
      let output = c["output"]?.stringValue ?? ""
      for a in c["assertions"]?.arrayValue ?? [] {
        guard let kind = a["kind"]?.stringValue, judgedKinds.contains(kind), let line = a["line"]?.numberValue,
          case .bool(let passed)? = a["passed"], let message = a["message"]?.stringValue,
          let index = assertionIndex(message)
        else { continue }
        let key = "\(file):\(Int(line))"
        if groups[key] == nil {
          order.append(key)
          groups[key] = AssertionCalibration(
            file: file, line: Int(line), kind: kind, what: describe(message), gate: gates[key])
        }
        let test = id.split(separator: "#").first.map(String.init) ?? id
        if id.contains("#") { repeats[key, default: [:]][test, default: []].append(passed) }
        guard let label = byKey["\(id) assert[\(index)]"] else { continue }
        if label.answer != Label.answerHash(output) {
          groups[key]?.stale += 1
          continue
        }
        let person = label.verdict == .pass
        groups[key]?.agreement.add(judge: passed, person: person)
        if passed != person { groups[key]?.disagreements.append("\(id) assert[\(index)]") }
      }
    }
    for (key, tests) in repeats {
      let sets = tests.values.filter { $0.count > 1 }
      guard !sets.isEmpty else { continue }
      let total = sets.reduce(0) { $0 + $1.count }
      let majority = sets.reduce(0) { n, v in n + max(v.count { $0 }, v.count { !$0 }) }
      groups[key]?.selfConsistency = Double(majority) / Double(total)
    }
    return order.compactMap { groups[$0] }.filter { $0.agreement.count > 0 || $0.stale > 0 || $0.gate != nil }
  }

  static let judgedKinds: Set<String> = ["llm-rubric", "similar", "exec"]

  /// N of "assert[N] …" or "turn 2 assert[N] …".
  package static func assertionIndex(_ message: String) -> Int? {
    guard let open = message.range(of: "assert[") else { return nil }
    let digits = message[open.upperBound...].prefix { $0.isNumber }
    return Int(digits)
  }

  /// The quoted rubric or reference of a judged assertion's message, short.
  static func describe(_ message: String) -> String {
    guard let q = message.firstIndex(of: "\"") else { return "" }
    let rest = message[message.index(after: q)...]
    let text = rest.prefix { $0 != "\"" }
    return Excerpt.start(String(text), length: 50)
  }

  package static func format(_ d: Double) -> String { String(format: "%.2f", d) }

  /// A share as a whole percentage: "80%".
  static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

  /// The terminal's table.
  package static func table(_ results: [AssertionCalibration]) -> String {
    guard !results.isEmpty else {
      return "no judged assertion has labels (label cases with promptcheck label or promptcheck view)\n"
    }
    var out = ""
    for r in results {
      let a = r.agreement
      out += "\(r.file):\(r.line) \(r.kind)" + (r.what.isEmpty ? "" : " " + r.what) + "\n"
      out += "  labels \(a.count)"
      if let o = a.observed { out += ", agreement \(percent(o))" }
      out += ", κ " + (a.kappa.map(format) ?? "n/a")
      if let s = r.selfConsistency { out += ", self-consistency \(percent(s))" }
      if r.stale > 0 { out += ", \(r.stale) stale (the answer changed since)" }
      out += "\n"
      out += "               person pass  person fail\n"
      out += "  judge pass   \(pad(a.bothPass))  \(pad(a.judgePassPersonFail))\n"
      out += "  judge fail   \(pad(a.judgeFailPersonPass))  \(pad(a.bothFail))\n"
      for d in r.disagreements.prefix(5) { out += "  disagrees: \(d)\n" }
      if r.disagreements.count > 5 { out += "  … and \(r.disagreements.count - 5) more\n" }
      if let g = r.gate {
        out += r.gateFailure.map { "  gate: FAILS: \($0)\n" } ?? "  gate: min_kappa \(g.minKappa) holds\n"
      }
    }
    return out
  }

  static func pad(_ n: Int) -> String { String(repeating: " ", count: max(0, 11 - String(n).count)) + String(n) }

  package static func json(_ results: [AssertionCalibration]) -> JSON {
    .array(
      results.map { r in
        var o = JSONObject()
        o["file"] = .string(r.file)
        o["line"] = .int(r.line)
        o["kind"] = .string(r.kind)
        o["labels"] = .int(r.agreement.count)
        o["agreement"] = r.agreement.observed.map(JSON.double) ?? .null
        o["kappa"] = r.agreement.kappa.map(JSON.double) ?? .null
        o["confusion"] = .object(
          JSONObject([
            ("judge_pass_person_pass", .int(r.agreement.bothPass)),
            ("judge_pass_person_fail", .int(r.agreement.judgePassPersonFail)),
            ("judge_fail_person_pass", .int(r.agreement.judgeFailPersonPass)),
            ("judge_fail_person_fail", .int(r.agreement.bothFail)),
          ]))
        o["self_consistency"] = r.selfConsistency.map(JSON.double) ?? .null
        o["stale"] = .int(r.stale)
        o["disagreements"] = .array(r.disagreements.map(JSON.string))
        if let g = r.gate {
          o["min_kappa"] = .double(g.minKappa)
          o["min_labels"] = .int(g.minLabels)
          o["gate"] = .string(r.gateFailure == nil ? "holds" : "fails")
        }
        return .object(o)
      })
  }

  package static func markdown(_ results: [AssertionCalibration]) -> String {
    var md = "| assertion | labels | agreement | κ | self-consistency | gate |\n|---|---:|---:|---:|---:|---|\n"
    for r in results {
      let a = r.agreement
      let gate = r.gate.map { g in r.gateFailure.map { "✗ \($0)" } ?? "≥ \(g.minKappa) ✓" } ?? ""
      md +=
        "| `\(r.file):\(r.line)` \(r.kind) | \(a.count) | \(a.observed.map(percent) ?? "–") | "
        + "\(a.kappa.map(format) ?? "n/a") | \(r.selfConsistency.map(percent) ?? "–") | "
        + "\(MarkdownText.escape(gate)) |\n"
    }
    return md
  }
}
