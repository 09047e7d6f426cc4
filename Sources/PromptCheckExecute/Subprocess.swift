import Foundation
import PromptCheckCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs an `exec` assertion's command (README "exec"): the input on its standard input, its
/// standard output and error read (each up to `maxOutput` bytes), killed with its whole process
/// group at the deadline or when the run is cancelled. The waiting happens on a thread of its
/// own; the result is handed back by a continuation.
package enum Subprocess {
  /// Held from making a child's pipes to spawning it (see `runBlocking`).
  static let spawning = NSLock()

  package struct Finished: Sendable {
    /// The exit status, or nil when a signal ended it.
    package var status: Int32?
    package var signal: Int32?
    package var stdout: String
    package var stderr: String
    package var timedOut: Bool
  }

  package struct LaunchError: Error, Sendable { package var message: String }

  static let maxOutput = 1 << 20

  /// The pid of a running child, for cancellation.
  final class Running: Sendable {
    let pid = Mutex<pid_t>(0)
    let cancelled = Atomic<Bool>(false)
  }

  /// `environment` is set over the process's; `cwd` is the folder it runs in.
  package static func run(
    _ argv: [String], input: String, timeoutMS: Int, environment: [(name: String, value: String)] = [],
    cwd: String? = nil
  ) async -> Result<Finished, LaunchError> {
    let running = Running()
    return await withTaskCancellationHandler {
      await withCheckedContinuation { (k: CheckedContinuation<Result<Finished, LaunchError>, Never>) in
        let thread = Thread {
          k.resume(
            returning: runBlocking(
              argv, input: Array(input.utf8), timeoutMS: timeoutMS, environment: environment, cwd: cwd,
              running: running))
        }
        thread.start()
      }
    } onCancel: {
      running.cancelled.store(true, ordering: .sequentiallyConsistent)
      let pid = running.pid.withLock { $0 }
      if pid > 0 { kill(-pid, SIGKILL) }
    }
  }

  /// What `capture` hands back: the bytes as read, each output up to its bound.
  package struct Captured: Sendable {
    /// The exit status, or nil when a signal ended it.
    package var status: Int32?
    package var signal: Int32?
    package var stdout: [UInt8]
    package var stderr: [UInt8]
    package var timedOut: Bool
    /// True when the standard output reached `maxOutput` (with `stopAtBound`, the rest was not
    /// read and the child was killed).
    package var truncated: Bool
  }

  /// Runs a tool on the calling thread (found on PATH) and hands back its outputs as bytes: an
  /// `exec` command (through `run`), git under `compare`, the tools the tests run. Foundation's
  /// `Process.run()` is not used for this: in the toolchain here it can over-read a directory
  /// entry of `/proc/self/fd` and crash the process now and then (swift-corelibs-foundation pull
  /// request 5472). `stopAtBound` kills the child once its output reaches `maxOutput`; otherwise
  /// the rest is read and dropped.
  package static func capture(
    _ argv: [String], input: [UInt8] = [], timeoutMS: Int, maxOutput: Int = maxOutput, stopAtBound: Bool = true,
    environment: [(name: String, value: String)] = [], unsetting: Set<String> = [], cwd: String? = nil
  ) -> Result<Captured, LaunchError> {
    capture(
      argv, input: input, timeoutMS: timeoutMS, maxOutput: maxOutput, stopAtBound: stopAtBound,
      environment: environment, unsetting: unsetting, cwd: cwd, running: Running())
  }

  static func capture(
    _ argv: [String], input: [UInt8], timeoutMS: Int, maxOutput: Int, stopAtBound: Bool,
    environment: [(name: String, value: String)], unsetting: Set<String>, cwd: String?, running: Running
  ) -> Result<Captured, LaunchError> {
    // A child that exits without reading its input must not kill the run with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    let child: Child
    switch spawn(argv, environment: environment, unsetting: unsetting, cwd: cwd) {
    case .success(let c): child = c
    case .failure(let e): return .failure(e)
    }
    running.pid.withLock { $0 = child.pid }
    if running.cancelled.load(ordering: .sequentiallyConsistent) { kill(-child.pid, SIGKILL) }
    let deadline = ContinuousClock().now.advanced(by: .milliseconds(timeoutMS))
    var (out, err, timedOut) = pump(
      child, input: input, until: deadline, maxOutput: maxOutput, stopAtBound: stopAtBound)
    let truncated = out.count >= maxOutput
    if timedOut || (stopAtBound && truncated) || running.cancelled.load(ordering: .sequentiallyConsistent) {
      kill(-child.pid, SIGKILL)
    }
    let status = reap(child.pid, until: deadline, running: running, timedOut: &timedOut)
    let exited = (status & 0x7f) == 0
    return .success(
      Captured(
        status: exited ? (status >> 8) & 0xff : nil, signal: exited ? nil : status & 0x7f, stdout: out, stderr: err,
        timedOut: timedOut, truncated: truncated))
  }

  /// A spawned child: its pid and the parent's ends of its three pipes.
  struct Child {
    var pid: pid_t
    var stdin: Int32
    var stdout: Int32
    var stderr: Int32
  }

  static func runBlocking(
    _ argv: [String], input: [UInt8], timeoutMS: Int, environment: [(name: String, value: String)] = [],
    cwd: String? = nil, running: Running
  ) -> Result<Finished, LaunchError> {
    capture(
      argv, input: input, timeoutMS: timeoutMS, maxOutput: maxOutput, stopAtBound: false, environment: environment,
      unsetting: [], cwd: cwd, running: running
    ).map { r in
      Finished(
        status: r.status, signal: r.signal, stdout: String(decoding: r.stdout, as: UTF8.self),
        stderr: String(decoding: r.stderr, as: UTF8.self), timedOut: r.timedOut)
    }
  }

  /// Makes the three pipes and spawns the child in a process group of its own (so a timeout
  /// kills what a shell command started too), its ends on 0, 1 and 2.
  static func spawn(
    _ argv: [String], environment extra: [(name: String, value: String)] = [], unsetting: Set<String> = [],
    cwd: String? = nil
  ) -> Result<Child, LaunchError> {
    var inPipe: [Int32] = [0, 0]
    var outPipe: [Int32] = [0, 0]
    var errPipe: [Int32] = [0, 0]
    // Close-on-exec, set while no other case spawns: a child spawned at the same time by another
    // case must not inherit these ends (a stray copy of the input's write end keeps this child
    // from ever seeing the end of its input). The child gets its copies on 0, 1 and 2 by dup2,
    // which clears the flag.
    spawning.lock()
    defer { spawning.unlock() }
    func pipe(_ fds: inout [Int32]) -> Int32 {
      guard Glibc.pipe(&fds) == 0 else { return -1 }
      for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
      return 0
    }
    guard pipe(&inPipe) == 0 else { return .failure(LaunchError(message: "cannot make a pipe: \(errnoText())")) }
    guard pipe(&outPipe) == 0 else {
      closeAll(inPipe)
      return .failure(LaunchError(message: "cannot make a pipe: \(errnoText())"))
    }
    guard pipe(&errPipe) == 0 else {
      closeAll(inPipe + outPipe)
      return .failure(LaunchError(message: "cannot make a pipe: \(errnoText())"))
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // SIGPIPE is ignored here (a child that stops reading must not end the run), and an ignored
    // signal stays ignored across exec: the child gets the default back, so `yes | head` in a
    // command ends as it would in a shell.
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attributes, 0)
    // In another folder: through the shell, which changes to it and then becomes the command.
    let argv = cwd.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    // The process's environment, `unsetting` left out and `extra` set over it (a name in both is set).
    var cEnv: [UnsafeMutablePointer<CChar>?] = []
    if !extra.isEmpty || !unsetting.isEmpty {
      let names = Set(extra.map(\.name)).union(unsetting)
      var k = 0
      while let entry = environ[k] {
        let text = String(cString: entry)
        if !names.contains(String(text.prefix { $0 != "=" })) { cEnv.append(strdup(entry)) }
        k += 1
      }
      cEnv += extra.map { strdup("\($0.name)=\($0.value)") }
      cEnv.append(nil)
    }
    defer { for e in cEnv { free(e) } }
    var pid: pid_t = 0
    let spawned =
      cEnv.isEmpty
      ? posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
      : posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
    close(inPipe[0])
    close(outPipe[1])
    close(errPipe[1])
    guard spawned == 0 else {
      closeAll([inPipe[1], outPipe[0], errPipe[0]])
      return .failure(LaunchError(message: "cannot run '\(argv[0])': \(String(cString: strerror(spawned)))"))
    }
    return .success(Child(pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0]))
  }

  /// Writes the input and reads both outputs (each up to `maxOutput` bytes) until they close or
  /// the deadline passes; every pipe end is closed on return.
  static func pump(
    _ child: Child, input: [UInt8], until deadline: ContinuousClock.Instant, maxOutput: Int = maxOutput,
    stopAtBound: Bool = false
  ) -> (out: [UInt8], err: [UInt8], timedOut: Bool) {
    for fd in [child.stdin, child.stdout, child.stderr] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    var stdinFD = child.stdin
    var written = 0
    if input.isEmpty {
      close(stdinFD)
      stdinFD = -1
    }
    var out: [UInt8] = []
    var err: [UInt8] = []
    var openReaders: [Int32] = [child.stdout, child.stderr]
    var timedOut = false
    var buffer = [UInt8](repeating: 0, count: 65536)
    while !openReaders.isEmpty || stdinFD >= 0 {
      // With `stopAtBound` the caller kills the child; otherwise the excess is read and dropped.
      if stopAtBound && out.count >= maxOutput { break }
      let left = ContinuousClock().now.duration(to: deadline)
      if left <= .zero {
        timedOut = true
        break
      }
      var fds = openReaders.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
      let waitMS = Int32(
        min(max(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 1), 200))
      let n = poll(&fds, nfds_t(fds.count), waitMS)
      if n < 0 {
        if errno == EINTR { continue }
        break
      }
      for p in fds where p.revents != 0 {
        if p.fd == stdinFD {
          let count = input.withUnsafeBytes { raw in
            write(stdinFD, raw.baseAddress.map { $0 + written }, input.count - written)
          }
          if count > 0 { written += count }
          if count < 0 && errno != EAGAIN && errno != EINTR || written >= input.count {
            close(stdinFD)
            stdinFD = -1
          }
          continue
        }
        let count = read(p.fd, &buffer, buffer.count)
        if count > 0 {
          if p.fd == child.stdout {
            if out.count < maxOutput { out += buffer[0..<min(count, maxOutput - out.count)] }
          } else if err.count < maxOutput {
            err += buffer[0..<min(count, maxOutput - err.count)]
          }
        } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
          close(p.fd)
          openReaders.removeAll { $0 == p.fd }
        }
      }
    }
    if stdinFD >= 0 { close(stdinFD) }
    closeAll(openReaders)
    return (out, err, timedOut)
  }

  /// Waits for the child's exit (a command may close its output and keep running) until the same
  /// deadline or a cancel, then kills it; its group's other members (a shell's children) go too.
  static func reap(_ pid: pid_t, until deadline: ContinuousClock.Instant, running: Running, timedOut: inout Bool)
    -> Int32
  {
    var status: Int32 = 0
    while true {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid || (r < 0 && errno != EINTR) { break }
      if r == 0 {
        if ContinuousClock().now >= deadline || running.cancelled.load(ordering: .sequentiallyConsistent) {
          timedOut = timedOut || ContinuousClock().now >= deadline
          kill(-pid, SIGKILL)
          while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
          break
        }
        usleep(2000)
      }
    }
    kill(-pid, SIGKILL)
    return status
  }

  static func closeAll(_ fds: [Int32]) { for fd in fds { close(fd) } }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}
