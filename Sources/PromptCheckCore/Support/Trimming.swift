extension StringProtocol {
  /// Without the characters of `set` at either end.
  package func trimmingCharacters(in set: String) -> String {
    var s = self[...]
    while let f = s.first, set.contains(f) { s = s.dropFirst() }
    while let l = s.last, set.contains(l) { s = s.dropLast() }
    return String(s)
  }
}

extension String {
  /// The text ending in a newline (a file's last line has one).
  package var withFinalNewline: String { hasSuffix("\n") ? self : self + "\n" }
}
