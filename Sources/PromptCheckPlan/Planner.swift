import PromptCheckCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What to select from the loaded suites.
package struct PlanOptions: Sendable {
  package var filters: [String] = []
  /// Exact case ids (or group ids, for every repetition).
  package var cases: [String] = []
  package var tags: [String] = []
  package var shard: Shard?
  /// Only these case ids (`--rerun-failed`).
  package var onlyIDs: Set<String>?

  package init() {}
}

/// The cases to run, and what a gate needs to know about how they were chosen.
package struct Plan: Sendable {
  /// This run's cases (this shard's, when sharded), in plan order.
  package var cases: [PlannedCase]
  /// The whole plan (before sharding), for `merge` to check shard reports against.
  package var fingerprint: PlanFingerprint
  /// Cases selected before sharding (0: the filters, tags or `only` matched nothing).
  package var selectedCount: Int
  /// Where `only: true` narrowed the run.
  package var onlyLocations: [SourceLocation]
}

/// The plan stage: expands variants and repeats, then filters, honours `only`, and shards.
package enum Planner {
  package static func plan(_ suites: [Suite], _ options: PlanOptions) -> [PlannedCase] {
    makePlan(suites, options).cases
  }

  package static func makePlan(_ suites: [Suite], _ options: PlanOptions) -> Plan {
    // One array of the selected cases, filled as they are made: a plan of 100,000 cases is
    // not copied from stage to stage.
    var selected: [PlannedCase] = []
    var only: [Bool] = []
    let everything = options.filters.isEmpty && options.cases.isEmpty && options.tags.isEmpty && options.onlyIDs == nil
    if everything {
      // Everything is selected: room for exactly that, not twice as much grown by doubling.
      let total = suites.reduce(0) { $0 + $1.caseCount }
      selected.reserveCapacity(total)
      only.reserveCapacity(total)
    }
    var position = 0
    for suite in suites {
      for test in suite.tests {
        for variant in test.variants {
          for k in 1...max(1, test.repeatCount ?? 1) {
            var c = PlannedCase(repeatIndex: test.repeatCount == nil ? nil : k, test: test, variant: variant)
            // The position in the whole, unfiltered plan.
            c.index = position
            position += 1
            guard everything || selects(c, options) else { continue }
            selected.append(c)
            only.append(test.only)
          }
        }
      }
    }
    // `only: true` anywhere in the selection: run just those.
    var onlyLocations: [SourceLocation] = []
    if only.contains(true) {
      var kept = 0
      for i in selected.indices where only[i] {
        if onlyLocations.last != selected[i].location { onlyLocations.append(selected[i].location) }
        selected.swapAt(kept, i)
        kept += 1
      }
      selected.removeLast(selected.count - kept)
    }
    let fingerprint = PlanFingerprint(shard: options.shard, ids: selected.lazy.map(\.id))
    let selectedCount = selected.count
    if let shard = options.shard {
      // The unit is the pass-rate group: every repetition of a case lands in one shard.
      selected.removeAll { shardOf($0.groupID, count: shard.count) != shard.index }
    }
    return Plan(
      cases: selected, fingerprint: fingerprint, selectedCount: selectedCount, onlyLocations: onlyLocations)
  }

  /// Whether `--filter`, `--case`, `--tag` and `--rerun-failed` all take the case.
  static func selects(_ c: PlannedCase, _ options: PlanOptions) -> Bool {
    let id = c.id
    return (options.filters.isEmpty || options.filters.contains { matches(id, $0) })
      && (options.cases.isEmpty || options.cases.contains { $0 == id || $0 == c.groupID })
      && (options.tags.isEmpty || options.tags.contains { c.tags.contains($0) })
      && (options.onlyIDs.map { $0.contains(id) } ?? true)
  }

  /// `--filter`: the id contains the pattern, or matches it as a glob (`*`, `?`, `[…]`).
  package static func matches(_ id: String, _ pattern: String) -> Bool {
    if id.contains(pattern) { return true }
    return fnmatch(pattern, id, 0) == 0
  }

  /// The 1-based shard of a pass-rate group id: FNV-1a (64-bit) of its UTF-8 bytes, modulo the shard count.
  /// The same on every machine and run.
  package static func shardOf(_ id: String, count: Int) -> Int {
    let hash = FNV1a.hash(id)
    return Int(hash % UInt64(count)) + 1
  }
}
