/// The parts of an absolute URL that promptcheck reads, scanned as bytes.
package enum URLParts {
  /// The path of an absolute URL ("/api/v1/chat/completions").
  package static func path(of url: String) -> String {
    let u = url.utf8
    guard let start = afterScheme(u) else { return url }
    // The first "/" starts the path, and "?" or "#" ends it.
    guard let slash = u[start...].firstIndex(where: isDelimiter), u[slash] == UInt8(ascii: "/") else { return "/" }
    let end = u[slash...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? u.endIndex
    return String(url[slash..<end])
  }

  /// The host of an absolute URL, lower-cased, without port or credentials.
  package static func host(of url: String) -> String? {
    let u = url.utf8
    guard let start = afterScheme(u) else { return nil }
    var rest = u[start..<(u[start...].firstIndex(where: isDelimiter) ?? u.endIndex)]
    if let at = rest.lastIndex(of: UInt8(ascii: "@")) { rest = rest[rest.index(after: at)...] }
    if let colon = rest.lastIndex(of: UInt8(ascii: ":")), rest.last != UInt8(ascii: "]") { rest = rest[..<colon] }
    return String(url[rest.startIndex..<rest.endIndex]).lowercased()
  }

  /// Where the part after the first `://` starts (scanned as bytes: every replayed case compares
  /// its URL path); nil when there is none.
  static func afterScheme(_ u: String.UTF8View) -> String.Index? {
    var i = u.startIndex
    while let colon = u[i...].firstIndex(of: UInt8(ascii: ":")) {
      i = u.index(after: colon)
      if u[i...].starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) { return u.index(i, offsetBy: 2) }
    }
    return nil
  }

  /// What ends a URL's authority.
  static func isDelimiter(_ b: UInt8) -> Bool {
    b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#")
  }
}
