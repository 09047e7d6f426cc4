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
    let stream = try Stream(path)
    stream.write(bytes)
    try stream.commit()
  }

  /// A file written piece by piece into its temporary file and renamed into place by
  /// `commit`; dropped without a commit, the temporary file is removed and the target is
  /// left as it was.
  package final class Stream {
    let path: String
    let temporary: String
    private var fd: Int32
    private var failure: String?

    package init(_ path: String) throws(WriteError) {
      self.path = path
      let folder = (path as NSString).deletingLastPathComponent
      if !folder.isEmpty {
        do {
          try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
          throw WriteError(path: path, reason: "cannot create the folder '\(folder)'")
        }
      }
      let name = (path as NSString).lastPathComponent
      temporary = (folder.isEmpty ? "." : folder) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
    }

    /// The open temporary file, for writing to it directly; nil once a write failed (or after `commit`).
    package var descriptor: Int32? { failure == nil && fd >= 0 ? fd : nil }

    /// Appends; the first failure is kept and reported by `commit`.
    package func write(_ bytes: [UInt8]) {
      guard failure == nil, fd >= 0 else { return }
      if FileSystem.writeAll(fd, bytes[...]) < bytes.count { failure = String(cString: strerror(errno)) }
    }

    /// Flushes, closes and renames the file into place.
    package func commit() throws(WriteError) {
      guard fd >= 0 else { throw WriteError(path: path, reason: "already committed") }
      if let failure {
        abandon()
        throw WriteError(path: path, reason: failure)
      }
      fsync(fd)
      close(fd)
      fd = -1
      guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw WriteError(path: path, reason: reason)
      }
    }

    private func abandon() {
      guard fd >= 0 else { return }
      close(fd)
      fd = -1
      unlink(temporary)
    }

    deinit { abandon() }
  }
}
