import Foundation
import PromptCheckCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Reads the cassettes of the cases about to run, on a thread of its own, a window ahead of the
/// cases started, and hands each case its file's bytes: the case is spared opening its file. A
/// case that comes before its file is read reads it itself (and the read-ahead skips it); a file
/// over 256 KiB is left to its case; at most 4 MiB is held ahead.
///
/// From a cold page cache one read at a time would wait on the disk for each file, so when a read
/// went to the disk (it took over 50 µs and the thread's block reads, `ru_inblock`, grew), the
/// next 256 files are hinted to the kernel (`POSIX_FADV_WILLNEED`), which reads them at once; from
/// a warm cache nothing is hinted (a hint costs an open of its own).
package final class CassettePrefetch: Sendable {
  private struct State {
    var started = 0
    var stopped = false
    /// Files read ahead, by the case's position in the plan (`PlannedCase.index`).
    var ready: [Int: [UInt8]] = [:]
    var heldBytes = 0
    /// The position of the last case the read-ahead is done with: a later case that comes first
    /// is claimed, so that its file is not read twice.
    var passed = -1
    var claimed: Set<Int> = []
  }

  private let state = Mutex(State())
  /// Cases read ahead of the cases started.
  let window: Int
  /// Bytes held ahead at most.
  let maxHeld: Int

  /// Starts reading the cassettes of `cases` (in the order they run; the plan's own array).
  package convenience init(cases: [PlannedCase], store: CassetteStore) {
    self.init(
      cases, window: 256, maxHeld: 4 << 20,
      read: { c in
        // (An adaptive repeat may not need a later sample: its file is not read ahead.)
        guard c.skip == nil, c.adaptiveMin == nil else { return nil }
        return FileSystem.readAhead(store.absolutePath(c), upTo: 256 << 10, within: store.project)
      },
      hint: { c in
        guard c.skip == nil else { return }
        FileSystem.hint(store.absolutePath(c))
      })
  }

  /// Calls `read` with each case at most `window` ahead of the cases started, and keeps what it
  /// gives for `take`; after a read that went to the disk, calls `hint` with the next `window`
  /// cases. `wentToDisk` tells from a read's time (nil: the thread's block reads grew).
  init(
    _ cases: [PlannedCase], window: Int, maxHeld: Int, read: @escaping @Sendable (PlannedCase) -> [UInt8]?,
    hint: @escaping @Sendable (PlannedCase) -> Void = { _ in },
    wentToDisk: (@Sendable (Duration) -> Bool)? = nil
  ) {
    self.window = window
    self.maxHeld = maxHeld
    guard !cases.isEmpty else { return }
    let thread = Thread { [self] in self.run(cases, read, hint, wentToDisk) }
    thread.name = "promptcheck.prefetch"
    thread.start()
  }

  /// A case starts reading its cassette: the bytes read ahead for it, or nil (it reads them itself).
  package func take(_ c: PlannedCase) -> [UInt8]? {
    state.withLock { s in
      s.started += 1
      if let bytes = s.ready.removeValue(forKey: c.index) {
        s.heldBytes -= bytes.count
        return bytes
      }
      if c.index > s.passed { s.claimed.insert(c.index) }
      return nil
    }
  }

  /// No more reading ahead (the run ended or was cancelled); what is held is let go.
  package func stop() {
    state.withLock { s in
      s.stopped = true
      s.ready = [:]
      s.heldBytes = 0
    }
  }

  private func run(
    _ cases: [PlannedCase], _ read: (PlannedCase) -> [UInt8]?, _ hint: (PlannedCase) -> Void,
    _ wentToDisk: ((Duration) -> Bool)?
  ) {
    let clock = ContinuousClock()
    var next = 0
    // Cases before this one are hinted (or need not be).
    var hinted = 0
    var blockReads = BlockReads()
    // (A slow read may only have been a read that lost the processor for a while.)
    let wentToDisk = wentToDisk ?? { elapsed in elapsed > .microseconds(50) && blockReads.grew() }
    while next < cases.count {
      let (limit, full, stopped) = state.withLock { ($0.started + window, $0.heldBytes >= maxHeld, $0.stopped) }
      if stopped { return }
      guard next < limit && !full else {
        usleep(500)
        continue
      }
      let c = cases[next]
      next += 1
      let claimed = state.withLock { $0.claimed.remove(c.index) != nil }
      let start = clock.now
      let bytes = claimed ? nil : read(c)
      if !claimed && wentToDisk(clock.now - start) {
        // The read went to the disk: the next files are asked for at once.
        hinted = max(hinted, next)
        while hinted < min(next + window, cases.count) {
          hint(cases[hinted])
          hinted += 1
        }
      }
      state.withLock { s in
        s.passed = c.index
        // A case that came while its file was read has read it itself.
        if let bytes, s.claimed.remove(c.index) == nil, !s.stopped {
          s.ready[c.index] = bytes
          s.heldBytes += bytes.count
        }
      }
    }
  }
}

/// The calling thread's reads from the disk (`getrusage(RUSAGE_THREAD)`'s `ru_inblock`): whether
/// any happened since the last look.
private struct BlockReads {
  private var last = BlockReads.count()

  mutating func grew() -> Bool {
    let now = Self.count()
    defer { last = now }
    return now > last
  }

  private static func count() -> Int {
    var usage = rusage()
    // RUSAGE_THREAD (Linux), which the C library module does not export.
    let thread: Int32 = 1
    return getrusage(thread, &usage) == 0 ? usage.ru_inblock : 0
  }
}
