/// Text inside Markdown (GitHub's step summaries).
package enum MarkdownText {
  /// `s` with Markdown's special characters escaped, so it reads as written.
  package static func escape(_ s: String) -> String {
    var out = ""
    for ch in s {
      if "\\`*_{}[]<>|".contains(ch) { out.append("\\") }
      out.append(ch)
    }
    return out
  }
}
