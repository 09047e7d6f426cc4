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

    /// Every stored property (the memberwise initializer, visible to the package).
    package init(path: String, reason: String) {
      self.path = path
      self.reason = reason
    }
  }

  package static func write(_ text: String, to path: ProjectPath) throws(WriteError) {
    try write(Array(text.utf8), to: path)
  }

  package static func write(_ bytes: [UInt8], to path: ProjectPath) throws(WriteError) {
    let stream = try Stream(path)
    stream.write(bytes)
    try stream.commit()
  }

  /// `.NAME.tmp-PID-RANDOM`: hidden, and never ending like a cassette or a golden, so a file
  /// left by a killed run is never read as one; `removeLeftovers` deletes it later.
  static func temporaryName(for name: String) -> String {
    ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }

  /// Deletes the temporary files in `folder` (not below it) that a run killed before it could
  /// finish (`kill -9`) left: those whose process is gone. How many it deleted. The folder is only
  /// listed (most do not exist: a suite without goldens); a leftover is deleted only as a path of
  /// `project` (checked then: leftovers are rare, and the check costs a walk of the folders).
  @discardableResult
  package static func removeLeftovers(in folder: String, within project: ProjectRoot) -> Int {
    guard let dir = opendir(folder) else { return 0 }
    defer { closedir(dir) }
    var removed = 0
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards) else { continue }
      let parts = name[range.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
      guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1]) != nil else { continue }
      // Alive (or not ours to ask): left alone.
      if kill(pid, 0) == 0 || errno == EPERM { continue }
      if let leftover = try? project.path(folder + "/" + name), leftover.remove() { removed += 1 }
    }
    return removed
  }

  /// A file written piece by piece into its temporary file and renamed into place by
  /// `commit`; dropped without a commit, the temporary file is removed and the target is
  /// left as it was.
  package final class Stream {
    let path: String
    let temporary: String
    private var fd: Int32
    private var failure: String?

    package init(_ target: ProjectPath) throws(WriteError) {
      let path = target.absolute
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
      temporary = (folder.isEmpty ? "." : folder) + "/" + AtomicFile.temporaryName(for: name)
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
