import Foundation

/// Reads a whole input file with a size limit. Works for regular files and for
/// pipes and FIFOs (`/dev/stdin`, `<(…)`), which have no size until read to their end.
package enum InputFile {
  /// The largest JSON document `query` reads.
  package static let documentLimit = 64 * 1024 * 1024

  package static func read(_ path: String, limit: Int) -> Result<[UInt8], ReadError> {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return .failure(ReadError(errno: errno)) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n == 0 { return .success(out) }
      if n < 0 {
        if errno == EINTR { continue }
        return .failure(ReadError(errno: errno))
      }
      if out.count + n > limit {
        return .failure(ReadError(message: "it is larger than the limit of \(limit / 1024 / 1024) MiB"))
      }
      out.append(contentsOf: chunk[0..<n])
    }
  }

  package struct ReadError: Error, Sendable, CustomStringConvertible {
    package var message: String
    init(message: String) { self.message = message }
    init(errno code: Int32) { message = String(cString: strerror(code)) }
    package var description: String { message }
  }
}
