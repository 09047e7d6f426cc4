import Foundation
import PromptCheckCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One MCP server started as a child (stdio transport): newline-delimited JSON-RPC on its
/// standard input and output; the last 4 KiB of its standard error kept for messages. The one
/// owner of the child: `stop()` (or `deinit`) kills it with its process group and reaps it.
final class MCPStdioConnection: MCPConnection {
  struct State {
    var child: Subprocess.Child?
    var nextID = 1
    var buffered: [UInt8] = []
    var stderrTail: [UInt8] = []
    var exited: String?
    /// Its exit status was collected (by `gone`); `stop()` then only kills what is left of its group.
    var reaped = false

    /// Adds what its standard error said, keeping the last `tailBytes`.
    mutating func keepStderr(_ bytes: ArraySlice<UInt8>) {
      stderrTail += bytes
      if stderrTail.count > MCPStdioConnection.tailBytes {
        stderrTail.removeFirst(stderrTail.count - MCPStdioConnection.tailBytes)
      }
    }
  }

  let name: String
  let timeoutMS: Int
  private let state = Mutex(State())

  static let maxLine = 16 * 1024 * 1024
  static let tailBytes = 4096

  init(name: String, child: Subprocess.Child, timeoutMS: Int) {
    self.name = name
    self.timeoutMS = timeoutMS
    for fd in [child.stdin, child.stdout, child.stderr] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    state.withLock { $0.child = child }
  }

  deinit { stop() }

  /// Kills the server with its process group and reaps it; its pipes are closed.
  func stop() {
    state.withLock { s in
      guard let child = s.child else { return }
      kill(-child.pid, SIGKILL)
      var status: Int32 = 0
      while !s.reaped && waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
      for fd in [child.stdin, child.stdout, child.stderr] { close(fd) }
      s.child = nil
    }
  }

  /// What its standard error said last, for a message.
  var stderrTail: String {
    let t = state.withLock { String(decoding: $0.stderrTail, as: UTF8.self) }
    return t.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Sends a request and waits (on a thread of its own) for the response with its id.
  func request(_ method: String, _ params: JSON) async -> Result<JSON, ToolError> {
    await withCheckedContinuation { (k: CheckedContinuation<Result<JSON, ToolError>, Never>) in
      Thread { k.resume(returning: self.requestBlocking(method, params)) }.start()
    }
  }

  /// A notification: sent, nothing awaited.
  func notify(_ method: String) async -> Result<Void, ToolError> { notifyBlocking(method) }

  func notifyBlocking(_ method: String) -> Result<Void, ToolError> {
    state.withLock { s in
      guard let child = s.child else { return .failure(ToolError("the MCP server \(name) is not running")) }
      return Self.write(
        Array((["jsonrpc": "2.0", "method": .string(method)] as JSON).serialized().utf8) + [10], to: child.stdin)
        ? .success(()) : .failure(ToolError("the MCP server \(name) closed its input"))
    }
  }

  func requestBlocking(_ method: String, _ params: JSON) -> Result<JSON, ToolError> {
    state.withLock { s in
      guard let child = s.child else { return .failure(ToolError("the MCP server \(name) is not running")) }
      if let exited = s.exited { return .failure(ToolError(exited)) }
      let id = s.nextID
      s.nextID += 1
      let message: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
      guard Self.write(Array(message.serialized().utf8) + [10], to: child.stdin) else {
        return .failure(ToolError(gone(&s, child, "closed its input")))
      }
      let deadline = ContinuousClock().now.advanced(by: .milliseconds(timeoutMS))
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        // A whole line may be buffered already.
        while let nl = s.buffered.firstIndex(of: 10) {
          let line = Array(s.buffered[..<nl])
          s.buffered.removeSubrange(...nl)
          guard let reply = try? JSON.parse(bytes: line), reply["id"] == .int(id) else { continue }
          if let error = reply["error"], error != .null {
            let text = error["message"]?.stringValue ?? error.serialized()
            return .failure(ToolError("the MCP server \(name) answered \(method) with an error: \(text)"))
          }
          return .success(reply["result"] ?? .null)
        }
        if s.buffered.count > Self.maxLine {
          return .failure(ToolError(gone(&s, child, "sent a line longer than 16 MiB")))
        }
        let left = ContinuousClock().now.duration(to: deadline)
        if left <= .zero {
          return .failure(ToolError(gone(&s, child, "did not answer \(method) within \(timeoutMS) ms (timeout_ms)")))
        }
        var fds = [
          pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0),
          pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0),
        ]
        let waitMS = Int32(
          min(max(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 1), 200))
        if poll(&fds, 2, waitMS) < 0, errno != EINTR { return .failure(ToolError(gone(&s, child, "cannot be read"))) }
        if fds[1].revents != 0 {
          let n = read(child.stderr, &chunk, chunk.count)
          if n > 0 {
            s.keepStderr(chunk[0..<n])
          }
        }
        if fds[0].revents != 0 {
          let n = read(child.stdout, &chunk, chunk.count)
          if n > 0 {
            s.buffered += chunk[0..<n]
          } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            return .failure(ToolError(gone(&s, child, "exited", settling: true)))
          }
        }
      }
    }
  }

  /// Marks the server as gone (later requests fail at once) and says why, with its stderr's tail.
  /// `settling`: its output closed, so it is exiting; up to a second is given for its last stderr
  /// and its exit status to arrive.
  private func gone(_ s: inout State, _ child: Subprocess.Child, _ what: String, settling: Bool = false) -> String {
    var message = "the MCP server \(name) \(what)"
    var status: Int32 = 0
    var reaped = waitpid(child.pid, &status, WNOHANG) == child.pid
    if settling {
      let deadline = ContinuousClock().now.advanced(by: .seconds(1))
      var chunk = [UInt8](repeating: 0, count: 4096)
      var stderrOpen = true
      while (stderrOpen || !reaped) && ContinuousClock().now < deadline {
        if stderrOpen {
          var p = pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0)
          if poll(&p, 1, 20) > 0 {
            let n = read(child.stderr, &chunk, chunk.count)
            if n > 0 {
              s.keepStderr(chunk[0..<n])
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
              stderrOpen = false
            }
          }
        } else {
          usleep(10_000)
        }
        if !reaped { reaped = waitpid(child.pid, &status, WNOHANG) == child.pid }
      }
    }
    if reaped {
      s.reaped = true
      message += (status & 0x7f) == 0 ? " (exit status \((status >> 8) & 0xff))" : " (signal \(status & 0x7f))"
    }
    let tail = String(decoding: s.stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if !tail.isEmpty { message += "; its stderr ends: " + String(tail.suffix(500)) }
    s.exited = message
    return message
  }

  static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
    var written = 0
    let deadline = ContinuousClock().now.advanced(by: .seconds(10))
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { raw in
        Glibc.write(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
      }
      if n > 0 {
        written += n
      } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
        if ContinuousClock().now >= deadline { return false }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&p, 1, 100)
      } else {
        return false
      }
    }
    return true
  }
}
