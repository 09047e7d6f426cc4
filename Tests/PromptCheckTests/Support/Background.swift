import Foundation
import Synchronization

@testable import PromptCheckExecute

#if canImport(Glibc)
  import Glibc
#endif

/// A child a test starts and signals or stops while it runs (a server, a run it interrupts),
/// through the project's own spawn: Foundation's `Process.run()` can over-read an entry of
/// `/proc/self/fd` and crash the whole test process while the other tests hold many sockets open
/// (see `Subprocess.capture`). Its standard output and error are drained by a thread of its own
/// into one text (the first 16 MiB kept), so a child that writes much never blocks. The one owner
/// of the child: `deinit` kills its process group and waits for the drain thread, which reaps it.
final class Background: Sendable {
  struct State {
    var output: [UInt8] = []
    /// The raw wait status, once reaped.
    var waitStatus: Int32?
  }

  /// What the drain thread and the test share (the thread does not hold `self`, so `deinit` runs).
  final class Shared: Sendable { let state = Mutex(State()) }

  let pid: pid_t
  private let shared = Shared()
  static let maxOutput = 16 << 20

  /// Starts `argv` (found on PATH) in `directory`, with `environment` set over the test's and
  /// `unsetting` left out of it. Its standard input is closed at once.
  init(
    _ argv: [String], in directory: URL? = nil, environment: [String: String] = [:], unsetting: Set<String> = []
  ) throws {
    let child = try Subprocess.spawn(
      argv, environment: environment.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) },
      unsetting: unsetting, cwd: directory?.path
    ).get()
    close(child.stdin)
    pid = child.pid
    Thread { [shared] in Self.drain(child, into: shared) }.start()
  }

  deinit {
    kill(-pid, SIGKILL)
    // Bounded: the group is dead, so the drain thread reaps it at once.
    _ = waitForExit(within: 10)
  }

  /// Reads both outputs until the child is reaped (not until they close: a grandchild may hold
  /// them), then what is left in them without waiting.
  private static func drain(_ child: Subprocess.Child, into shared: Shared) {
    var fds = [child.stdout, child.stderr]
    var chunk = [UInt8](repeating: 0, count: 65536)
    func readReady(waitMS: Int32) {
      var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      guard poll(&polled, nfds_t(polled.count), waitMS) > 0 else { return }
      for p in polled where p.revents != 0 {
        let n = read(p.fd, &chunk, chunk.count)
        if n > 0 {
          shared.state.withLock { s in
            if s.output.count < maxOutput { s.output += chunk[0..<min(n, maxOutput - s.output.count)] }
          }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
          close(p.fd)
          fds.removeAll { $0 == p.fd }
        }
      }
    }
    var status: Int32 = 0
    while true {
      let r = waitpid(child.pid, &status, WNOHANG)
      if r == child.pid || (r < 0 && errno != EINTR) { break }
      if fds.isEmpty { usleep(10_000) } else { readReady(waitMS: 50) }
    }
    for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    for _ in 0..<1024 where !fds.isEmpty { readReady(waitMS: 0) }
    for fd in fds { close(fd) }
    shared.state.withLock { $0.waitStatus = status }
  }

  /// What it wrote so far, standard output and error interleaved as they came.
  var output: String { shared.state.withLock { String(decoding: $0.output, as: UTF8.self) } }

  var isRunning: Bool { shared.state.withLock { $0.waitStatus == nil } }

  /// Sends `signal` to the child itself (not its group).
  func signal(_ signal: Int32) { kill(pid, signal) }

  /// Its exit status once it exited; nil while it runs or when a signal ended it.
  var exitStatus: Int32? {
    shared.state.withLock { s in s.waitStatus.flatMap { ($0 & 0x7f) == 0 ? ($0 >> 8) & 0xff : nil } }
  }

  /// Waits up to `seconds` for it to end, sleeping between looks (not holding a thread of the
  /// cooperative pool); its exit status, nil when it is still running or a signal ended it.
  func finished(within seconds: Double = 120) async -> Int32? {
    let deadline = ContinuousClock().now.advanced(by: .milliseconds(Int(seconds * 1000)))
    while isRunning && ContinuousClock().now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    return exitStatus
  }

  /// The same for a test that is not async: blocks the calling thread.
  func waitForExit(within seconds: Double = 120) -> Int32? {
    let deadline = ContinuousClock().now.advanced(by: .milliseconds(Int(seconds * 1000)))
    while isRunning && ContinuousClock().now < deadline { usleep(5000) }
    return exitStatus
  }
}
