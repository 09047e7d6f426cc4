import CLinux

#if canImport(Glibc)
  import Glibc
#endif

/// Reading files and listing folders with the C library: a long replay reads thousands of
/// cassettes, and Foundation's `FileManager` costs more than the parsing around it.
package enum FileSystem {
  /// The file's bytes, or nil when it cannot be opened or read (missing, a folder, no permission).
  package static func read(_ path: String) -> [UInt8]? {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { return nil }
    return read(fd, info)
  }

  /// Why `readRegular` gave no bytes.
  package enum FileReadError: Error, Sendable, Equatable {
    /// There is no such file (or it cannot be opened).
    case absent
    /// There is something, but not a file to read: what it is and why it is refused.
    case refused(String)
  }

  /// A regular file of at most `limit` bytes inside `project` (a cassette, a golden): a FIFO, a
  /// device, a folder, a link that leads out of the project or a larger file is refused without
  /// reading it (and without waiting on a FIFO that has no writer).
  package static func readRegular(_ path: String, limit: Int, within project: ProjectRoot?) -> Result<
    [UInt8], FileReadError
  > {
    let (fd, beneath) = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, inside: project)
    guard fd >= 0 else { return .failure(.absent) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return .failure(.absent) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: return .failure(.refused("it is a folder, not a file"))
    case S_IFIFO: return .failure(.refused("it is a FIFO, not a regular file"))
    case S_IFCHR, S_IFBLK: return .failure(.refused("it is a device, not a regular file"))
    case S_IFSOCK: return .failure(.refused("it is a socket, not a regular file"))
    default: return .failure(.refused("it is not a regular file"))
    }
    if let project, !beneath, !project.contains(openFile: fd) {
      return .failure(.refused("it is a link to a file outside the project"))
    }
    guard Int(info.st_size) <= limit else {
      return .failure(.refused("it is \(info.st_size) bytes, over the limit of \(limit) bytes"))
    }
    // (O_NONBLOCK only kept a FIFO from stalling the open: a regular file's reads ignore it.)
    guard let bytes = read(fd, info) else { return .failure(.refused(String(cString: strerror(errno)))) }
    return .success(bytes)
  }

  /// The bytes of a file of at most `limit` bytes, read ahead of the case that needs them; a
  /// larger file gives nil, as does one that cannot be read.
  /// A file that `readRegular` would refuse is not read ahead (its case reads it and says why).
  package static func readAhead(_ path: String, upTo limit: Int, within project: ProjectRoot?) -> [UInt8]? {
    let (fd, beneath) = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, inside: project)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    guard info.st_size <= limit, beneath || (project?.contains(openFile: fd) ?? true) else { return nil }
    return read(fd, info)
  }

  /// Opens `path`; with a project, beneath its folder in one call where the kernel can
  /// (`openat2`, RESOLVE_BENEATH: `beneath` is true and no further check is needed). Otherwise (no
  /// openat2, a path spelt outside `project.path`, an absolute link, any failure) the usual
  /// `open`, whose file the caller checks with `ProjectRoot.contains(openFile:)`.
  package static func open(_ path: String, _ flags: Int32, inside project: ProjectRoot?) -> (fd: Int32, beneath: Bool) {
    if let project, let directory = project.directory, project.path != "/",
      path.utf8.count > project.path.utf8.count + 1, path.hasPrefix(project.path + "/")
    {
      let relative = path.utf8.dropFirst(project.path.utf8.count + 1)
      let fd = String(Substring(relative)).withCString { promptcheck_open_beneath(directory.fd, $0, flags) }
      if fd >= 0 { return (fd, true) }
    }
    return (Glibc.open(path, flags), false)
  }

  /// Asks the kernel to read the file into its page cache (`POSIX_FADV_WILLNEED`), without waiting.
  package static func hint(_ path: String) {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    guard fd >= 0 else { return }
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
    close(fd)
  }

  /// Reads an open file. A regular file is read straight into an array of its size, to that size
  /// (no read to see the end: one syscall a cassette); anything else (a FIFO or a /proc file
  /// reports size 0) is read until the end.
  private static func read(_ fd: Int32, _ info: stat) -> [UInt8]? {
    let size = Int(info.st_size)
    if (info.st_mode & S_IFMT) == S_IFREG && size > 0 { return read(fd, count: size, at: 0) }
    var out: [UInt8] = []
    let chunk = 16 * 1024
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
    defer { buffer.deallocate() }
    while true {
      let n = Glibc.read(fd, buffer.baseAddress, chunk)
      if n < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if n == 0 { return out }
      out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
  }

  /// Up to `count` bytes of an open file from `offset`, read into an array of that size (fewer at
  /// the end of the file); nil when a read fails (`errno` says why).
  package static func read(_ fd: Int32, count: Int, at offset: Int) -> [UInt8]? {
    var failed = false
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, done in
      guard let base = buffer.baseAddress else { return }
      while done < count {
        let n = pread(fd, base + done, count - done, off_t(offset + done))
        if n < 0 && errno == EINTR { continue }
        if n < 0 { failed = true }
        if n <= 0 { break }
        done += n
      }
    }
    return failed ? nil : bytes
  }

  /// Writes `bytes` to `fd`, again after a partial or interrupted write; how many were written:
  /// fewer than all when a write failed (`errno` says why) or took nothing.
  package static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[(bytes.startIndex + offset)...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      offset += n
    }
    return offset
  }

  /// Every file under `root` (recursively, following no links out of it) whose name ends with
  /// `suffix`, as paths relative to `root`, sorted.
  package static func files(under root: String, suffix: String) -> [String] {
    files(under: root) { $0.hasSuffix(suffix) }
  }

  /// Every file under `root` whose name passes `keep`, relative to `root`, sorted.
  package static func files(under root: String, where keep: (String) -> Bool) -> [String] {
    var out: [String] = []
    visitFiles(under: root, where: keep) { folder, name in out.append(folder.isEmpty ? name : folder + "/" + name) }
    return out.sorted()
  }

  /// Hands each file under `root` whose name passes `keep` to `visit`: its folder relative to
  /// `root` ("" for `root` itself) and its name; in directory order, nothing gathered.
  package static func visitFiles(
    under root: String, where keep: (String) -> Bool, _ visit: (_ folder: String, _ name: String) -> Void
  ) {
    func walk(_ relative: String, depth: Int) {
      guard depth < 64, let dir = opendir(relative.isEmpty ? root : root + "/" + relative) else { return }
      defer { closedir(dir) }
      while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        var isDirectory = entry.pointee.d_type == DT_DIR
        if entry.pointee.d_type == DT_UNKNOWN || entry.pointee.d_type == DT_LNK {
          var info = stat()
          let path = relative.isEmpty ? name : relative + "/" + name
          if stat(root + "/" + path, &info) == 0 { isDirectory = (info.st_mode & S_IFMT) == S_IFDIR }
          if entry.pointee.d_type == DT_LNK { isDirectory = false }
        }
        if isDirectory {
          walk(relative.isEmpty ? name : relative + "/" + name, depth: depth + 1)
        } else if keep(name) {
          visit(relative, name)
        }
      }
    }
    walk("", depth: 0)
  }
}
