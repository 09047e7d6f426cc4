import Foundation
import Synchronization

/// `body(0..<count)` run at once on the cores (each index once), the results in index order.
package func concurrentMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
  let done = Mutex([Int: T]())
  DispatchQueue.concurrentPerform(iterations: count) { i in
    let value = body(i)
    done.withLock { $0[i] = value }
  }
  let all = done.withLock { $0 }
  return (0..<count).compactMap { all[$0] }
}

extension Array {
  /// `map` with an async transform, in order.
  package func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
    var out: [T] = []
    out.reserveCapacity(count)
    for e in self { out.append(await transform(e)) }
    return out
  }
}
