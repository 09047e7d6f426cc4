import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Asks the kernel to read the cassettes of the cases about to run (`POSIX_FADV_WILLNEED`), on a
/// thread of its own, a window ahead of the cases started. Replaying many cassettes from a cold
/// page cache otherwise waits on one small read at a time on each of the few threads that run
/// cases. It only hints: the replay reads every file itself, whatever the hint did.
package final class CassettePrefetch: Sendable {
  private struct State {
    var started = 0
    var stopped = false
  }

  private let state = Mutex(State())
  /// Files hinted ahead of the cases started.
  let window: Int

  /// Starts hinting the cassettes of `cases` (in the order they run; the plan's own array).
  package convenience init(cases: [PlannedCase], store: CassetteStore) {
    self.init(cases, window: 256) { c in
      guard c.skip == nil else { return }
      let fd = open(store.absolutePath(c), O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { return }
      _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
      close(fd)
    }
  }

  /// Calls `hint` with each case at most `window` ahead of the cases started.
  init(_ cases: [PlannedCase], window: Int, hint: @escaping @Sendable (PlannedCase) -> Void) {
    self.window = window
    guard !cases.isEmpty else { return }
    let thread = Thread { [self] in self.run(cases, hint) }
    thread.name = "promptcheck.prefetch"
    thread.start()
  }

  /// One more case is being read.
  package func caseStarted() { state.withLock { $0.started += 1 } }

  /// No more hints (the run ended or was cancelled).
  package func stop() { state.withLock { $0.stopped = true } }

  private func run(_ cases: [PlannedCase], _ hint: (PlannedCase) -> Void) {
    var next = 0
    while next < cases.count {
      let (limit, stopped) = state.withLock { ($0.started + window, $0.stopped) }
      if stopped { return }
      guard next < limit else {
        usleep(500)
        continue
      }
      while next < min(limit, cases.count) {
        hint(cases[next])
        next += 1
      }
    }
  }
}
