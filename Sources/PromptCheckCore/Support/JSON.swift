#if canImport(Glibc)
  import Glibc
#endif

/// A JSON value that keeps what JSON-path and assertions need and Foundation
/// blurs: integers stay apart from floats, `true` is never `1`, and strings
/// (values and member names) compare by Unicode code points, not by Swift's
/// canonical equivalence.
package enum JSON: Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSON])
  case object(JSONObject)

  package var isNumber: Bool {
    switch self {
    case .int, .double: return true
    default: return false
    }
  }

  package var numberValue: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }

  package var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  package var arrayValue: [JSON]? {
    if case .array(let a) = self { return a }
    return nil
  }

  package var objectValue: JSONObject? {
    if case .object(let o) = self { return o }
    return nil
  }

  package subscript(key: String) -> JSON? {
    objectValue?[key]
  }

  package var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .int, .double: return "number"
    case .string: return "string"
    case .array: return "array"
    case .object: return "object"
    }
  }
}

/// A JSON object that keeps member order (as written) and compares member
/// names by code point.
package struct JSONObject: Sendable {
  package private(set) var members: [(key: String, value: JSON)] = []
  /// Member positions by name bytes, once the object is large enough for a
  /// linear search to hurt. UTF-8 bytes keep code-point semantics (Swift's
  /// `String` hashing would merge canonically equivalent names).
  private var positions: [[UInt8]: Int]?
  static let indexThreshold = 16

  package init() {}
  package init(_ members: [(String, JSON)]) {
    for (k, v) in members { self[k] = v }
  }

  /// An object of members whose names are known to differ (a report's own keys): no lookups.
  package init(distinct members: [(key: String, value: JSON)]) {
    self.members = members
    if members.count > Self.indexThreshold { rebuildPositions() }
  }

  package var count: Int { members.count }
  package var keys: [String] { members.map(\.key) }
  package var values: [JSON] { members.map(\.value) }

  func index(of key: String) -> Int? {
    if let positions { return positions[Array(key.utf8)] }
    return members.firstIndex { sameCodePoints($0.key, key) }
  }

  package subscript(key: String) -> JSON? {
    get { index(of: key).map { members[$0].value } }
    set {
      if let i = index(of: key) {
        if let newValue {
          members[i].value = newValue
        } else {
          members.remove(at: i)
          positions = nil
          if members.count > Self.indexThreshold { rebuildPositions() }
        }
      } else if let newValue {
        append(key, newValue)
      }
    }
  }

  /// Adds a member whose name is not there yet (one search); false, changing nothing, when it is.
  package mutating func insertNew(_ key: String, _ value: JSON) -> Bool {
    guard index(of: key) == nil else { return false }
    append(key, value)
    return true
  }

  /// Appends a member known to be new, keeping the name index.
  private mutating func append(_ key: String, _ value: JSON) {
    members.append((key, value))
    if positions != nil {
      positions?[Array(key.utf8)] = members.count - 1
    } else if members.count > Self.indexThreshold {
      rebuildPositions()
    }
  }

  private mutating func rebuildPositions() {
    var p: [[UInt8]: Int] = [:]
    p.reserveCapacity(members.count)
    for (i, m) in members.enumerated() { p[Array(m.key.utf8)] = i }
    positions = p
  }

  /// Members sorted by the code points of their names (as UTF-8 bytes, which orders the same way).
  package var sortedMembers: [(key: String, value: JSON)] {
    members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
  }
}

// MARK: - JSON equality

extension JSON: Equatable {
  /// JSON equality: numbers by value (`1 == 1.0`), no cross-type equality,
  /// strings by code points, objects member by member regardless of order.
  package static func == (a: JSON, b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.int, .double), (.double, .int), (.double, .double):
      return numbersEqual(a, b)
    case (.string(let x), .string(let y)): return sameCodePoints(x, y)
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      guard x.count == y.count else { return false }
      for (k, v) in x.members {
        guard let w = y[k], w == v else { return false }
      }
      return true
    default: return false
    }
  }

  static func numbersEqual(_ a: JSON, _ b: JSON) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x == y
    case (.int(let x), .double(let y)), (.double(let y), .int(let x)):
      // Exact comparison: only integral doubles in range can equal an Int.
      guard y.rounded() == y, abs(y) < 9.3e18 else { return false }
      return Double(x) == y && Int(exactly: y) == x
    case (.double(let x), .double(let y)): return x == y
    default: return false
    }
  }

  /// `<` of RFC 9535: numbers by value, strings by code point; otherwise nil (not comparable).
  static func lessThan(_ a: JSON, _ b: JSON) -> Bool? {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x < y
    case (.string(let x), .string(let y)):
      return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
    default:
      if let x = a.numberValue, let y = b.numberValue, a.isNumber, b.isNumber { return x < y }
      return nil
    }
  }
}

extension JSON: Hashable {
  package func hash(into h: inout Hasher) {
    switch self {
    case .null: h.combine(0)
    case .bool(let b): h.combine(1); h.combine(b)
    case .int(let i): h.combine(2); h.combine(Double(i))
    case .double(let d): h.combine(2); h.combine(d)
    case .string(let s): h.combine(3); h.combine(Array(s.utf8))
    case .array(let a): h.combine(4); h.combine(a)
    case .object(let o):
      h.combine(5)
      h.combine(o.count)
    }
  }
}

extension JSONObject: Equatable {
  package static func == (a: JSONObject, b: JSONObject) -> Bool { JSON.object(a) == JSON.object(b) }
}

// MARK: - Literals

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  package init(stringLiteral value: String) { self = .string(value) }
  package init(integerLiteral value: Int) { self = .int(value) }
  package init(floatLiteral value: Double) { self = .double(value) }
  package init(booleanLiteral value: Bool) { self = .bool(value) }
  package init(arrayLiteral elements: JSON...) { self = .array(elements) }
  package init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

/// Whether two strings have the same code points (their UTF-8 bytes), not merely canonical
/// equivalence as `==` says; a byte comparison of the two buffers where they are contiguous.
@inline(__always)
func sameCodePoints(_ a: String, _ b: String) -> Bool {
  guard a.utf8.count == b.utf8.count else { return false }
  let fast = a.utf8.withContiguousStorageIfAvailable { x in
    b.utf8.withContiguousStorageIfAvailable { y in
      guard let p = x.baseAddress, let q = y.baseAddress else { return true }
      return memcmp(p, q, x.count) == 0
    }
  }
  if let result = fast ?? nil { return result }
  return a.utf8.elementsEqual(b.utf8)
}
