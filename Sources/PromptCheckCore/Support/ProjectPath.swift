import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The project's folder (the working folder of a command): every file promptcheck writes,
/// renames or deletes is inside it (README "Limits and safety"). `path(_:)` is the one place a
/// path is checked; the writers (`AtomicFile`, `ProjectPath.remove`, `rename`) take only what it
/// returns, so a path named by a report, a cassette, a suite or a flag cannot leave the project.
package struct ProjectRoot: Sendable, Equatable {
  /// Absolute, lexically normalised.
  package let path: String
  /// The same folder with every link resolved (what a resolved path must stay under).
  package let realPath: String
  /// The folder held open, to open files beneath it (`FileSystem.open(_:_:inside:)`); nil when
  /// it cannot be opened.
  package let directory: ProjectDirectory?

  package init(_ directory: String) {
    let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
    path = ProjectRoot.normalized(absolute) ?? "/"
    realPath = ProjectRoot.resolvedLinks(path) ?? path
    self.directory = ProjectDirectory(path)
  }

  /// The same folder (whether each holds it open does not matter).
  package static func == (a: ProjectRoot, b: ProjectRoot) -> Bool { a.path == b.path && a.realPath == b.realPath }

  /// `path` (absolute, or relative to the root) as a path inside the project, or why not:
  /// it names a place outside (`..`, an absolute path elsewhere), or a folder on the way is a
  /// link that leads out of the project.
  package func path(_ given: String) throws(PathError) -> ProjectPath {
    let absolute = given.hasPrefix("/") ? given : path + "/" + given
    guard let normal = Self.normalized(absolute), Self.isInside(normal, path) else {
      throw PathError(path: given, reason: "it is outside the project folder \(path)")
    }
    // The deepest folder on the way that exists, with its links resolved, must be inside too.
    var folder = (normal as NSString).deletingLastPathComponent
    while !folder.isEmpty && folder != "/" && access(folder, F_OK) != 0 {
      folder = (folder as NSString).deletingLastPathComponent
    }
    let real = Self.resolvedLinks(folder) ?? folder
    guard Self.isInside(real, realPath) || real == realPath else {
      throw PathError(path: given, reason: "a folder on its way is a link to \(real), outside the project")
    }
    return ProjectPath(absolute: normal)
  }

  /// Whether an open file is inside the project (its real path, read from `/proc/self/fd`).
  package func contains(openFile fd: Int32) -> Bool {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
    guard n > 0 else { return true }  // No /proc: only the lexical check applies.
    let real = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return Self.isInside(real, realPath)
  }

  static func isInside(_ p: String, _ root: String) -> Bool {
    root == "/" ? p.hasPrefix("/") && p != "/" : p.hasPrefix(root + "/")
  }

  /// `.` and `..` folded away; nil when `..` climbs above `/`.
  static func normalized(_ absolute: String) -> String? {
    var parts: [Substring] = []
    for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == ".." {
        if parts.isEmpty { return nil }
        parts.removeLast()
      } else {
        parts.append(part)
      }
    }
    return "/" + parts.joined(separator: "/")
  }

  static func resolvedLinks(_ path: String) -> String? {
    guard let r = realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
  }
}

/// The project's folder opened for reading (`O_DIRECTORY`): what `openat2` opens files beneath.
/// Its one owner closes it when the last `ProjectRoot` holding it goes.
package final class ProjectDirectory: Sendable {
  package let fd: Int32

  init?(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    self.fd = fd
  }

  deinit { close(fd) }
}

/// A path that `ProjectRoot.path(_:)` checked: inside the project.
package struct ProjectPath: Sendable, Hashable, CustomStringConvertible {
  package let absolute: String
  fileprivate init(absolute: String) { self.absolute = absolute }

  package var description: String { absolute }

  /// The same path with `suffix` appended to its name (`CASE.txt` → `CASE.txt.new`).
  package func appending(suffix: String) -> ProjectPath { ProjectPath(absolute: absolute + suffix) }

  /// The folder it is in.
  package var folder: ProjectPath { ProjectPath(absolute: (absolute as NSString).deletingLastPathComponent) }

  /// Removes the file (a link itself, never what it points to); true when it is gone.
  @discardableResult
  package func remove() -> Bool {
    unlink(absolute) == 0 || errno == ENOENT
  }

  /// Removes the folder when it is empty.
  package func removeIfEmptyFolder() -> Bool { rmdir(absolute) == 0 }

  /// Renames the file to `target` (both inside the project); nil, or why not.
  package func rename(to target: ProjectPath) -> String? {
    Glibc.rename(absolute, target.absolute) == 0 ? nil : String(cString: strerror(errno))
  }
}

/// Why a path was refused.
package struct PathError: Error, Sendable, CustomStringConvertible {
  package var path: String
  package var reason: String
  package var description: String { "refused to write '\(path)': \(reason)" }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }
}
