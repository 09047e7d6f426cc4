import Foundation
import PromptCheckCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// An app started by its target's `start:` (README "Testing your app"): one process group for
/// the whole run, its output drained by a thread of its own (the last 4 KiB of each kept for
/// messages). The one owner of the child: `stop()` (or `deinit`) kills the group and reaps it.
package final class AppProcess: Sendable {
  struct State {
    var child: Subprocess.Child?
    var tail: [UInt8] = []
    /// Set once it exited: how.
    var exited: String?
    var reaped = false
  }

  package let name: String
  private let state = Mutex(State())
  private let drained = DispatchSemaphore(value: 0)
  static let tailBytes = 4096

  private init(name: String, child: Subprocess.Child) {
    self.name = name
    state.withLock { $0.child = child }
  }

  deinit { stop() }

  /// Starts the app and waits until it is ready; the problem, with its output's tail, otherwise.
  package static func start(
    _ start: AppStart, name: String, environment: [(name: String, value: String)], directory: String,
    transport: (any HTTPTransport)?
  ) async -> Result<AppProcess, TargetError> {
    let folder = start.cwd.map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 } ?? directory
    let child: Subprocess.Child
    switch Subprocess.spawn(start.argv, environment: environment + start.env, cwd: folder) {
    case .success(let c): child = c
    case .failure(let e): return .failure(TargetError("the app of target \(name) could not start: \(e.message)"))
    }
    close(child.stdin)
    let app = AppProcess(name: name, child: child)
    Thread { app.drain(child) }.start()
    let deadline = ContinuousClock().now.advanced(by: .milliseconds(start.timeoutMS))
    while ContinuousClock().now < deadline {
      if let exited = app.exited {
        app.stop()
        return .failure(TargetError("the app of target \(name) (`\(start.display)`) \(exited)\(app.tailText)"))
      }
      if await Self.isReady(start.ready, transport: transport) { return .success(app) }
      try? await Task.sleep(for: .milliseconds(100))
      if Task.isCancelled { break }
    }
    app.stop()
    return .failure(
      TargetError(
        "the app of target \(name) (`\(start.display)`) was not ready within \(start.timeoutMS) ms (start.timeout_ms)\(app.tailText)"
      ))
  }

  static func isReady(_ ready: AppStart.Ready, transport: (any HTTPTransport)?) async -> Bool {
    switch ready {
    case .port(let port):
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { return false }
      defer { close(fd) }
      var addr = sockaddr_in()
      addr.sin_family = sa_family_t(AF_INET)
      addr.sin_port = in_port_t(UInt16(port).bigEndian)
      addr.sin_addr.s_addr = inet_addr("127.0.0.1")
      let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      return r == 0
    case .url(let url):
      guard let transport else { return false }
      // Any HTTP answer means the app is listening.
      return (try? await transport.send(HTTPRequest(method: "GET", url: url, timeout: 1))) != nil
    }
  }

  /// How it exited, once it did.
  var exited: String? { state.withLock { $0.exited } }

  /// `; its output ends: …`, or nothing.
  package var tailText: String {
    let t = state.withLock { String(decoding: $0.tail, as: UTF8.self) }.trimmingCharacters(in: .whitespacesAndNewlines)
    return t.isEmpty ? "" : "; its output ends: \(t)"
  }

  /// Whether it is still running; a message saying how it ended otherwise.
  package var problem: String? {
    exited.map { "the app of target \(name) \($0)\(tailText)" }
  }

  /// Reads its output until both streams close, keeping the tail; then notes how it exited.
  private func drain(_ child: Subprocess.Child) {
    var fds = [child.stdout, child.stderr]
    var chunk = [UInt8](repeating: 0, count: 65536)
    while !fds.isEmpty {
      var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      if poll(&polled, nfds_t(polled.count), 500) < 0, errno != EINTR { break }
      for p in polled where p.revents != 0 {
        let n = read(p.fd, &chunk, chunk.count)
        if n > 0 {
          state.withLock { s in
            s.tail += chunk[0..<n]
            if s.tail.count > Self.tailBytes { s.tail.removeFirst(s.tail.count - Self.tailBytes) }
          }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
          fds.removeAll { $0 == p.fd }
        }
      }
    }
    // Outside the lock: an app that closed its output may run on until `stop()` kills it.
    var status: Int32 = 0
    var r: pid_t
    repeat { r = waitpid(child.pid, &status, 0) } while r < 0 && errno == EINTR
    state.withLock { s in
      guard r == child.pid else { return }
      s.reaped = true
      let exited = (status & 0x7f) == 0
      s.exited = exited ? "exited (exit status \((status >> 8) & 0xff))" : "was ended by signal \(status & 0x7f)"
    }
    drained.signal()
  }

  /// Kills the app with its process group and reaps it; its pipes are closed.
  package func stop() {
    let child: Subprocess.Child? = state.withLock { s in
      let c = s.child
      s.child = nil
      return c
    }
    guard let child else { return }
    kill(-child.pid, SIGKILL)
    // The drain thread sees the end of its output, reaps it and signals (bounded: the group is dead).
    _ = drained.wait(timeout: .now() + 5)
    for fd in [child.stdout, child.stderr] { close(fd) }
  }
}
