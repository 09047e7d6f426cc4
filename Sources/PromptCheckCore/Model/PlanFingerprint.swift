/// What a shard's report records of the plan it ran a part of, so `merge` can check that
/// its reports come from one plan and together hold all of it.
package struct PlanFingerprint: Sendable, Equatable {
  /// K/N, or nil for an unsharded run.
  package var shard: Shard?
  /// Cases in the whole plan (every shard together).
  package var count: Int
  /// FNV-1a (64-bit, hex) of the whole plan's case ids in plan order, one per line.
  package var digest: String

  package init(shard: Shard?, count: Int, digest: String) {
    self.shard = shard
    self.count = count
    self.digest = digest
  }

  package init(shard: Shard?, ids: some Sequence<String>) {
    var hash = FNV1a()
    var count = 0
    for id in ids {
      hash.add(id.utf8)
      hash.add(CollectionOfOne(0x0A))
      count += 1
    }
    self.init(shard: shard, count: count, digest: FNV1a.hex(hash.value))
  }
}
