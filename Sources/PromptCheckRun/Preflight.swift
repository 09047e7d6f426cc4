import PromptCheckCore
import PromptCheckPlan

/// The refusals of a run, found before anything is sent: each a `Diagnostic`, printed together
/// by the command, which then exits 2 (README "Exit status"). Pure.
package enum Preflight {
  /// What the settings refuse before planning. `fullRun`: every suite and every case is
  /// selected, so unused cassettes and goldens are known.
  package static func settings(_ s: ResolvedRunSettings, fullRun: Bool) -> [Diagnostic] {
    guard s.prune && !fullRun else { return [] }
    return [
      Diagnostic(
        "--prune deletes the cassettes no test uses, which only a full run knows: drop the paths, --filter, "
          + "--case, --tag, --shard and --rerun-failed, or drop --prune; nothing was run", at: nil)
    ]
  }

  /// What the plan refuses: an empty selection (unless allowed), `only: true` while CI is set
  /// (unless allowed), a cost budget for providers that report no cost.
  package static func plan(_ planned: Plan, _ s: ResolvedRunSettings, isCI: Bool) -> [Diagnostic] {
    if planned.selectedCount == 0 && !s.allowEmpty {
      var why: [String] = []
      if !s.filters.isEmpty { why.append("--filter " + s.filters.joined(separator: ", ")) }
      if !s.cases.isEmpty { why.append("--case " + s.cases.joined(separator: ", ")) }
      if !s.tags.isEmpty { why.append("--tag " + s.tags.joined(separator: ", ")) }
      return [
        Diagnostic(
          "no case matched" + (why.isEmpty ? " (the suites define no test)" : " " + why.joined(separator: " and "))
            + "; nothing was run (pass --allow-empty if an empty run is expected)", at: nil)
      ]
    }
    if isCI && !planned.onlyLocations.isEmpty && !s.allowOnly {
      return planned.onlyLocations.map {
        Diagnostic("'only: true' narrows the run to this test while CI is set", at: $0)
      } + [
        Diagnostic(
          "remove 'only' before merging (or pass --allow-only); \(counted(planned.onlyLocations.count, "test")) "
            + "would run instead of the whole selection", at: nil)
      ]
    }
    // A budget needs to know what calls cost.
    if s.maxCost != nil && s.effectiveMode != .replay {
      var seen = Set<String>()
      let unknown = planned.cases.map(\.provider).filter { !$0.knowsCost && seen.insert($0.name).inserted }
      if !unknown.isEmpty {
        let names = unknown.map { "provider '\($0.name)'" }.joined(separator: ", ")
        return [
          Diagnostic(
            "--max-cost needs the cost of each call, but \(names) reports no usage.cost; give "
              + "\(unknown.count == 1 ? "it" : "each") pricing: {prompt: USD, completion: USD} (per million tokens) "
              + "in promptcheck.yaml; nothing was run", at: nil)
        ]
      }
    }
    return []
  }
}
