import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Writes files atomically: a temporary file in the same folder, flushed, then
/// renamed over the target. A run that is killed leaves the file either as it
/// was or complete, never half-written.
package enum AtomicFile {
  package struct WriteError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String
    package var description: String { "cannot write '\(path)': \(reason)" }
  }

  package static func write(_ text: String, to path: String) throws(WriteError) {
    try write(Array(text.utf8), to: path)
  }

  package static func write(_ bytes: [UInt8], to path: String) throws(WriteError) {
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty {
      do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw WriteError(path: path, reason: "cannot create the folder '\(folder)'")
      }
    }
    let name = (path as NSString).lastPathComponent
    let temporary = (folder.isEmpty ? "." : folder) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n <= 0 {
        let reason = String(cString: strerror(errno))
        close(fd)
        unlink(temporary)
        throw WriteError(path: path, reason: reason)
      }
      offset += n
    }
    fsync(fd)
    close(fd)
    guard rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw WriteError(path: path, reason: reason)
    }
  }
}
