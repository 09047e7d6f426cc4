/// FNV-1a, 64-bit: a stable hash (the same on every machine and run) for shard assignment,
/// plan digests and served cassettes' names. Not for security.
package struct FNV1a: Sendable {
  package private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

  package init() {}

  package mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
    for b in bytes {
      value ^= UInt64(b)
      value = value &* 0x100_0000_01b3
    }
  }

  package static func hash(_ s: String) -> UInt64 {
    var h = FNV1a()
    h.add(s.utf8)
    return h.value
  }

  /// Sixteen hex digits.
  package static func hex(_ v: UInt64) -> String {
    let hex = String(v, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}
