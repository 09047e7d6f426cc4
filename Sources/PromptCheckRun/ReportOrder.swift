import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import Synchronization

/// Puts finished cases in plan order for the reports: the few that finish ahead of an earlier
/// case wait, and a repeated test's samples wait until the last is in (the pass-rate gate and
/// its one golden need them all).
struct ReportOrder {
  private var ahead: [Int: CaseResult] = [:]
  private var next = 0
  /// Samples still to come, per repeated test not settled yet.
  private var samplesLeft: [String: Int] = [:]
  /// In plan order, not reported yet: an unsettled repeated test's samples and what follows them.
  private var waiting: [CaseResult] = []
  private var settled: [(first: Int, group: RepeatGroup)] = []
  let goldens: GoldenStore?

  init(_ cases: [PlannedCase], goldens: GoldenStore?) {
    self.goldens = goldens
    for c in cases where c.repeatIndex != nil { samplesLeft[c.groupID, default: 0] += 1 }
  }

  /// Every repeated test's figures, in plan order.
  var groups: [RepeatGroup] { settled.sorted { $0.first < $1.first }.map(\.group) }

  /// Takes the case at plan position `i`; the cases that can be reported now, in order.
  mutating func take(_ i: Int, _ result: CaseResult) -> [CaseResult] {
    ahead[i] = result
    var ready: [CaseResult] = []
    while let r = ahead.removeValue(forKey: next) {
      next += 1
      waiting.append(r)
      if r.plannedCase.repeatIndex != nil { sampleArrived(r.plannedCase.groupID) }
      let n = waiting.firstIndex { $0.plannedCase.repeatIndex != nil && samplesLeft[$0.plannedCase.groupID] != nil }
      let count = n ?? waiting.count
      ready += waiting[..<count]
      waiting.removeFirst(count)
    }
    return ready
  }

  /// What is still held when the run ends (nothing, unless a case never came back): in plan
  /// order, each repeated test settled on the samples it has.
  mutating func drain() -> [CaseResult] {
    for i in ahead.keys.sorted() { if let r = ahead.removeValue(forKey: i) { waiting.append(r) } }
    var seen = Set<String>()
    for r in waiting where r.plannedCase.repeatIndex != nil && seen.insert(r.plannedCase.groupID).inserted {
      samplesLeft[r.plannedCase.groupID] = 1
      sampleArrived(r.plannedCase.groupID)
    }
    defer { waiting.removeAll() }
    return waiting
  }

  private mutating func sampleArrived(_ group: String) {
    guard let left = samplesLeft[group] else { return }
    if left > 1 {
      samplesLeft[group] = left - 1
      return
    }
    samplesLeft[group] = nil
    let members = waiting.indices.filter {
      waiting[$0].plannedCase.repeatIndex != nil && waiting[$0].plannedCase.groupID == group
    }
    var samples = members.map { waiting[$0] }
    let first = samples.first?.plannedCase.index ?? 0
    settled += PassRateGate.apply(&samples).map { (first, $0) }
    goldens?.settleRepeats(&samples)
    for (k, i) in members.enumerated() { waiting[i] = samples[k] }
  }
}
