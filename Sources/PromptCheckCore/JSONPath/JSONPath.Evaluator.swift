/// A node of a nodelist: its value and, when asked for, its location.
struct PathNode {
  var value: JSON
  var path: [JSONPath.PathElement]
}

struct EvaluationContext {
  let root: JSON
  let trackPaths: Bool
  /// The regex deadline of the whole evaluation, and what it is.
  let limit: Duration
  let deadline: ContinuousClock.Instant
  /// Set once a regex ran past the deadline; every later regex then reports no match at once.
  var timeout: RegexTimeoutError?

  init(root: JSON, trackPaths: Bool, limit: Duration = RegexGuard.limit) {
    self.root = root
    self.trackPaths = trackPaths
    self.limit = limit
    self.deadline = ContinuousClock().now.advanced(by: limit)
  }

  mutating func evaluate(_ query: Query, current: JSON) -> [PathNode] {
    var nodes = [PathNode(value: query.absolute ? root : current, path: [])]
    for segment in query.segments {
      var next: [PathNode] = []
      switch segment {
      case .child(let selectors):
        for node in nodes {
          for s in selectors { apply(s, to: node, into: &next) }
        }
      case .descendant(let selectors):
        for node in nodes {
          visitDescendants(node) { (n: PathNode, ctx: inout EvaluationContext) in
            for s in selectors { ctx.apply(s, to: n, into: &next) }
          }
        }
      }
      nodes = next
      if nodes.isEmpty { break }
    }
    return nodes
  }

  /// Visits `node` and then its descendants, parents before children, arrays in order.
  mutating func visitDescendants(_ node: PathNode, _ body: (PathNode, inout EvaluationContext) -> Void) {
    var stack = [node]
    while let n = stack.popLast() {
      body(n, &self)
      switch n.value {
      case .array(let items):
        for (k, v) in items.enumerated().reversed() {
          stack.append(PathNode(value: v, path: trackPaths ? n.path + [.index(k)] : []))
        }
      case .object(let o):
        for m in o.members.reversed() {
          stack.append(PathNode(value: m.value, path: trackPaths ? n.path + [.name(m.key)] : []))
        }
      default: break
      }
    }
  }

  func child(_ node: PathNode, _ value: JSON, _ element: JSONPath.PathElement) -> PathNode {
    PathNode(value: value, path: trackPaths ? node.path + [element] : [])
  }

  mutating func apply(_ selector: Selector, to node: PathNode, into out: inout [PathNode]) {
    switch selector {
    case .name(let name):
      if case .object(let o) = node.value, let v = o[name] { out.append(child(node, v, .name(name))) }
    case .wildcard:
      switch node.value {
      case .array(let items):
        for (k, v) in items.enumerated() { out.append(child(node, v, .index(k))) }
      case .object(let o):
        for m in o.members { out.append(child(node, m.value, .name(m.key))) }
      default: break
      }
    case .index(let index):
      if case .array(let items) = node.value {
        let k = index < 0 ? items.count + index : index
        if k >= 0 && k < items.count { out.append(child(node, items[k], .index(k))) }
      }
    case .slice(let start, let end, let step):
      guard case .array(let items) = node.value else { return }
      for k in Self.sliceIndices(count: items.count, start: start, end: end, step: step) {
        out.append(child(node, items[k], .index(k)))
      }
    case .filter(let expr):
      switch node.value {
      case .array(let items):
        for (k, v) in items.enumerated() where test(expr, current: v) { out.append(child(node, v, .index(k))) }
      case .object(let o):
        for m in o.members where test(expr, current: m.value) { out.append(child(node, m.value, .name(m.key))) }
      default: break
      }
    }
  }

  /// RFC 9535 §2.3.4.2.2.
  static func sliceIndices(count len: Int, start: Int?, end: Int?, step: Int?) -> [Int] {
    let step = step ?? 1
    if step == 0 || len == 0 { return [] }
    func normalize(_ v: Int) -> Int { v >= 0 ? v : len + v }
    var result: [Int] = []
    if step > 0 {
      let lower = min(max(normalize(start ?? 0), 0), len)
      let upper = min(max(normalize(end ?? len), 0), len)
      var k = lower
      while k < upper {
        result.append(k)
        k += step
      }
    } else {
      let upper = min(max(normalize(start ?? len - 1), -1), len - 1)
      let lower = min(max(end.map(normalize) ?? -1, -1), len - 1)
      var k = upper
      while lower < k {
        result.append(k)
        k += step
      }
    }
    return result
  }

  // MARK: Filters

  mutating func test(_ expr: LogicalExpression, current: JSON) -> Bool {
    switch expr {
    case .or(let items):
      for e in items where test(e, current: current) { return true }
      return false
    case .and(let items):
      for e in items where !test(e, current: current) { return false }
      return true
    case .not(let e):
      return !test(e, current: current)
    case .existence(let q):
      return !evaluate(q, current: current).isEmpty
    case .function(let f):
      return logical(f, current: current)
    case .comparison(let l, let op, let r):
      let a = value(of: l, current: current)
      let b = value(of: r, current: current)
      return Self.compare(a, op, b)
    }
  }

  static func compare(_ a: JSON?, _ op: ComparisonOperator, _ b: JSON?) -> Bool {
    func equal(_ x: JSON?, _ y: JSON?) -> Bool {
      switch (x, y) {
      case (nil, nil): return true
      case (let x?, let y?): return x == y
      default: return false
      }
    }
    func less(_ x: JSON?, _ y: JSON?) -> Bool {
      guard let x, let y else { return false }
      return JSON.lessThan(x, y) ?? false
    }
    switch op {
    case .equal: return equal(a, b)
    case .notEqual: return !equal(a, b)
    case .less: return less(a, b)
    case .lessOrEqual: return less(a, b) || equal(a, b)
    case .greater: return less(b, a)
    case .greaterOrEqual: return less(b, a) || equal(a, b)
    }
  }

  /// A comparable's value; nil is "Nothing".
  mutating func value(of c: FilterOperand, current: JSON) -> JSON? {
    switch c {
    case .literal(let v): return v
    case .query(let q):
      let nodes = evaluate(q, current: current)
      return nodes.count == 1 ? nodes[0].value : nil
    case .function(let f): return functionValue(f, current: current)
    }
  }

  mutating func argumentValue(_ a: FunctionArgument, current: JSON) -> JSON? {
    switch a {
    case .literal(let v): return v
    case .query(let q):
      let nodes = evaluate(q, current: current)
      return nodes.count == 1 ? nodes[0].value : nil
    case .function(let f): return functionValue(f, current: current)
    case .logical: return nil
    }
  }

  mutating func argumentNodes(_ a: FunctionArgument, current: JSON) -> [PathNode] {
    if case .query(let q) = a { return evaluate(q, current: current) }
    return []
  }

  mutating func functionValue(_ f: FunctionCall, current: JSON) -> JSON? {
    switch f.name {
    case .length:
      switch argumentValue(f.arguments[0], current: current) {
      case .string(let s)?: return .int(s.unicodeScalars.count)
      case .array(let a)?: return .int(a.count)
      case .object(let o)?: return .int(o.count)
      default: return nil
      }
    case .count:
      return .int(argumentNodes(f.arguments[0], current: current).count)
    case .value:
      let nodes = argumentNodes(f.arguments[0], current: current)
      return nodes.count == 1 ? nodes[0].value : nil
    case .match, .search:
      return .bool(logical(f, current: current))
    }
  }

  mutating func logical(_ f: FunctionCall, current: JSON) -> Bool {
    switch f.name {
    case .match, .search:
      guard case .string(let subject)? = argumentValue(f.arguments[0], current: current) else { return false }
      let regex: IRegexp
      if f.patternIsLiteral {
        guard let compiled = f.compiledPattern else { return false }
        regex = compiled
      } else {
        guard case .string(let pattern)? = argumentValue(f.arguments[1], current: current),
          let compiled = try? IRegexp(pattern)
        else { return false }
        regex = compiled
      }
      guard timeout == nil else { return false }
      do {
        return f.name == .match
          ? try regex.matchesEntirely(subject, limit: limit, deadline: deadline)
          : try regex.matchesSomewhere(subject, limit: limit, deadline: deadline)
      } catch {
        timeout = error
        return false
      }
    case .length, .count, .value:
      // Type checking rejects these in logical position.
      return false
    }
  }
}
