/// Line diffs (Myers' O(ND) algorithm) printed as unified diffs that `patch` applies.
package enum UnifiedDiff {
  enum Edit: Equatable {
    case same(Int, Int)  // index in old, index in new
    case delete(Int)
    case insert(Int)
  }

  /// Splits text into lines; the last line may lack a newline.
  static func lines(_ text: String) -> (lines: [Substring], endsWithNewline: Bool) {
    if text.isEmpty { return ([], true) }
    var parts = text.split(separator: "\n", omittingEmptySubsequences: false)
    let ends = text.hasSuffix("\n")
    if ends { parts.removeLast() }
    return (parts, ends)
  }

  /// The shortest edit script from `a` to `b`.
  static func edits(_ a: [Substring], _ b: [Substring]) -> [Edit] {
    let n = a.count
    let m = b.count
    let max = n + m
    if max == 0 { return [] }
    var v = [Int](repeating: 0, count: 2 * max + 2)
    var trace: [[Int]] = []
    outer: for d in 0...max {
      trace.append(v)
      for k in stride(from: -d, through: d, by: 2) {
        var x: Int
        if k == -d || (k != d && v[max + k - 1] < v[max + k + 1]) {
          x = v[max + k + 1]
        } else {
          x = v[max + k - 1] + 1
        }
        var y = x - k
        while x < n, y < m, a[x] == b[y] {
          x += 1
          y += 1
        }
        v[max + k] = x
        if x >= n && y >= m { break outer }
      }
    }
    // Backtrack through the saved frontiers.
    var edits: [Edit] = []
    var x = n
    var y = m
    for d in stride(from: trace.count - 1, through: 0, by: -1) {
      let v = trace[d]
      let k = x - y
      let prevK: Int
      if k == -d || (k != d && v[max + k - 1] < v[max + k + 1]) {
        prevK = k + 1
      } else {
        prevK = k - 1
      }
      let prevX = d == 0 ? 0 : v[max + prevK]
      let prevY = prevX - prevK
      while x > prevX, y > prevY {
        x -= 1
        y -= 1
        edits.append(.same(x, y))
      }
      if d > 0 {
        if x == prevX {
          y -= 1
          edits.append(.insert(y))
        } else {
          x -= 1
          edits.append(.delete(x))
        }
      }
      x = prevX
      y = prevY
    }
    return edits.reversed()
  }

  /// A unified diff from `old` to `new` with `context` lines around each change;
  /// "" when they are equal.
  package static func diff(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
    let (a, aEnds) = lines(old)
    let (b, bEnds) = lines(new)
    if a == b && aEnds == bEnds { return "" }
    var matched = edits(a, b)
    // A line without a final newline only equals a line that also lacks one:
    // otherwise show the pair as removed and added (with the marker).
    var script: [Edit] = []
    script.reserveCapacity(matched.count + 2)
    for e in matched {
      if case .same(let i, let j) = e, (i == a.count - 1 && !aEnds) != (j == b.count - 1 && !bEnds) {
        script += [.delete(i), .insert(j)]
      } else {
        script.append(e)
      }
    }
    matched.removeAll()
    // Within each run of changes, removed lines come before added ones (as diff(1) prints them).
    var start = 0
    while start < script.count {
      if case .same = script[start] {
        start += 1
        continue
      }
      var end = start
      while end < script.count, !{ if case .same = script[end] { return true } else { return false } }() { end += 1 }
      let run = script[start..<end]
      script.replaceSubrange(start..<end, with: run.filter(\.touchesOld) + run.filter { !$0.touchesOld })
      start = end
    }
    // Lines of each side consumed before each edit.
    var oldBefore = [Int](repeating: 0, count: script.count + 1)
    var newBefore = [Int](repeating: 0, count: script.count + 1)
    for (i, e) in script.enumerated() {
      oldBefore[i + 1] = oldBefore[i] + (e.touchesOld ? 1 : 0)
      newBefore[i + 1] = newBefore[i] + (e.touchesNew ? 1 : 0)
    }
    // Hunks: runs of changes closer than 2*context unchanged lines, plus context.
    let changes = script.indices.filter { if case .same = script[$0] { return false } else { return true } }
    var hunks: [ClosedRange<Int>] = []
    var k = 0
    while k < changes.count {
      let first = changes[k]
      var last = first
      while k + 1 < changes.count, changes[k + 1] - last - 1 <= 2 * context {
        k += 1
        last = changes[k]
      }
      hunks.append(Swift.max(0, first - context)...Swift.min(script.count - 1, last + context))
      k += 1
    }
    var out = "--- \(oldName)\n+++ \(newName)\n"
    for hunk in hunks {
      let oldCount = oldBefore[hunk.upperBound + 1] - oldBefore[hunk.lowerBound]
      let newCount = newBefore[hunk.upperBound + 1] - newBefore[hunk.lowerBound]
      // An empty side starts at the line before it (0 at the top), as diff(1) prints it.
      let oldStart = oldBefore[hunk.lowerBound] + (oldCount == 0 ? 0 : 1)
      let newStart = newBefore[hunk.lowerBound] + (newCount == 0 ? 0 : 1)
      out += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
      for e in script[hunk] {
        switch e {
        case .same(let i, _):
          out += " \(a[i])\n"
          if i == a.count - 1 && !aEnds { out += "\\ No newline at end of file\n" }
        case .delete(let i):
          out += "-\(a[i])\n"
          if i == a.count - 1 && !aEnds { out += "\\ No newline at end of file\n" }
        case .insert(let j):
          out += "+\(b[j])\n"
          if j == b.count - 1 && !bEnds { out += "\\ No newline at end of file\n" }
        }
      }
    }
    return out
  }

  static func range(_ start: Int, _ count: Int) -> String {
    count == 1 ? "\(start)" : "\(start),\(count)"
  }

}

extension UnifiedDiff.Edit {
  var touchesOld: Bool {
    switch self {
    case .same, .delete: return true
    case .insert: return false
    }
  }

  var touchesNew: Bool {
    switch self {
    case .same, .insert: return true
    case .delete: return false
    }
  }
}
