/// `--shard K/N`: shard K (1-based) of N.
package struct Shard: Sendable, Equatable {
  package var index: Int
  package var count: Int

  package init?(parsing text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else { return nil }
    index = k
    count = n
  }

  package init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  /// `K/N`
  package var text: String { "\(index)/\(count)" }
}
