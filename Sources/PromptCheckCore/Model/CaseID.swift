/// Case ids and file stems (README "Files and layout").
///
/// - id: `SUITE/TEST-SLUG`, then `[k=v,k=v]` for a matrix case (keys in matrix
///   order, values as written), then `#N` for a repeat.
/// - file stem: `TEST-SLUG`, then `--k-v` per matrix value (slugged), then `--rN`.
package enum CaseID {
  package static func id(
    suite: String, slug: String, matrix: [(key: String, value: String)], target: String? = nil, repeatIndex: Int?
  ) -> String {
    var id = "\(suite)/\(slug)"
    if !matrix.isEmpty { id += "[" + matrix.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "]" }
    if let target { id += "@" + target }
    if let repeatIndex { id += "#\(repeatIndex)" }
    return id
  }

  package static func fileStem(
    slug: String, matrix: [(key: String, value: String)], target: String? = nil, repeatIndex: Int?
  ) -> String {
    var stem = slug
    for (k, v) in matrix { stem += "--" + slugify("\(k)-\(v)") }
    if let target { stem += "--at-" + slugify(target) }
    if let repeatIndex { stem += "--r\(repeatIndex)" }
    return stem
  }
}

/// Cartesian product of matrix values, the first key varying slowest.
package func matrixCombinations(_ matrix: [(key: String, values: [String])]) -> [[(key: String, value: String)]] {
  var result: [[(key: String, value: String)]] = [[]]
  for (key, values) in matrix {
    var next: [[(key: String, value: String)]] = []
    next.reserveCapacity(result.count * values.count)
    for prefix in result {
      for v in values { next.append(prefix + [(key, v)]) }
    }
    result = next
  }
  return result
}
