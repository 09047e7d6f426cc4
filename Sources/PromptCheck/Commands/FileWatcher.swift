internal import CInotify
import Foundation
import PromptCheckCore
import Synchronization

/// The files of a project folder as they change, for `watch`: inotify on every folder under the
/// root (new folders are watched as they appear), or, where inotify is missing (or
/// `PROMPTCHECK_WATCH_POLL=1`), a scan of the files' times every 250 ms. The owner of its
/// descriptor: closed in `deinit`.
package final class FileWatcher: Sendable {
  /// Folders never watched: the build, Git, editors' and promptcheck's own output.
  static let skipped: Set<String> = [".build", ".git", ".promptcheck", ".swiftpm", "node_modules", ".venv"]

  let root: String
  let fd: Int32
  struct State {
    var folders: [Int32: String] = [:]
    /// For polling: each file's size and time.
    var seen: [String: String] = [:]
  }
  let state = Mutex(State())

  package var usesInotify: Bool { fd >= 0 }

  package init(root: String, forcePolling: Bool = false) {
    self.root = root
    fd = forcePolling ? -1 : inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    if fd >= 0 {
      addFolders(under: root)
    } else {
      let now = scan()
      state.withLock { $0.seen = now }
    }
  }

  deinit { if fd >= 0 { close(fd) } }

  static func skip(_ name: String) -> Bool { skipped.contains(name) || name.hasPrefix(".build") }

  func addFolders(under folder: String) {
    let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY)
    let wd = inotify_add_watch(fd, folder, mask)
    if wd >= 0 { state.withLock { $0.folders[wd] = folder } }
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for name in names where !Self.skip(name) {
      var isDir: ObjCBool = false
      let path = folder + "/" + name
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
        addFolders(under: path)
      }
    }
  }

  /// Every file's size and time under the root (polling).
  func scan() -> [String: String] {
    var out: [String: String] = [:]
    guard let e = FileManager.default.enumerator(atPath: root) else { return out }
    while let f = e.nextObject() as? String {
      if f.split(separator: "/").contains(where: { Self.skip(String($0)) }) {
        e.skipDescendants()
        continue
      }
      var st = stat()
      if stat(root + "/" + f, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
        out[f] = "\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
      }
    }
    return out
  }

  /// Set once, read by the watcher's thread.
  final class Flag: Sendable {
    let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .sequentiallyConsistent) }
    var isRaised: Bool { raised.load(ordering: .sequentiallyConsistent) }
  }

  /// The files changed (relative to the root), a set per save: a thread of the watcher's own
  /// waits for the changes and gathers those that come within `debounce` seconds of each other
  /// (an editor's save is several events). The thread ends within 200 ms of the stream's
  /// consumer going (its task cancelled).
  package func batches(debounce: Double) -> AsyncStream<Set<String>> {
    let (stream, continuation) = AsyncStream<Set<String>>.makeStream()
    let stopped = Flag()
    continuation.onTermination = { _ in stopped.raise() }
    Thread.detachNewThread { [self] in
      while !stopped.isRaised {
        var changed = changes(timeout: 0.2)
        guard !changed.isEmpty else { continue }
        while !stopped.isRaised {
          let more = changes(timeout: debounce)
          if more.isEmpty { break }
          changed.formUnion(more)
        }
        continuation.yield(changed)
      }
      continuation.finish()
    }
    return stream
  }

  /// Waits up to `timeout` seconds for changes; the files changed (relative to the root), or
  /// none when nothing changed in that time.
  func changes(timeout: Double) -> Set<String> {
    guard fd >= 0 else {
      Thread.sleep(forTimeInterval: min(timeout, 0.25))
      let now = scan()
      return state.withLock { s in
        var changed = Set<String>()
        for (f, v) in now where s.seen[f] != v { changed.insert(f) }
        for f in s.seen.keys where now[f] == nil { changed.insert(f) }
        s.seen = now
        return changed
      }
    }
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return [] }
    var changed = Set<String>()
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      guard n > 0 else { break }
      var offset = 0
      while offset + MemoryLayout<inotify_event>.size <= n {
        let (wd, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
          let e = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
          return (e.wd, e.mask, Int(e.len))
        }
        let nameStart = offset + MemoryLayout<inotify_event>.size
        let nameBytes = buffer[nameStart..<min(n, nameStart + length)].prefix { $0 != 0 }
        let name = String(decoding: nameBytes, as: UTF8.self)
        if let folder = state.withLock({ $0.folders[wd] }), !name.isEmpty {
          let path = folder + "/" + name
          if mask & UInt32(IN_ISDIR) != 0 {
            if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 && !Self.skip(name) { addFolders(under: path) }
          } else {
            changed.insert(String(path.dropFirst(root.count + 1)))
          }
        }
        offset = nameStart + length
      }
    }
    return changed
  }
}
