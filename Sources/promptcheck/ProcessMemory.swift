import CLinux
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The C library's allocator, tuned for a run's pattern: thousands of cases allocate and free on
/// several threads at once. By default glibc hands freed memory at the top of each thread's heap
/// back to the kernel at once (`madvise`), and every such return interrupts the other cores to
/// flush their address caches; over a replay of 10,000 cases that was about a tenth of its CPU.
/// Up to 2 MiB freed at the top of a heap is kept for the next allocation instead (the default
/// is 128 KiB; 2 MiB took the returns away, a larger figure only raised the peak memory of
/// 100,000 cases: README "Development"). A user's own `GLIBC_TUNABLES` or `MALLOC_*_` settings
/// are left as set.
enum ProcessMemory {
  static func tune(environment: [String: String] = ProcessInfo.processInfo.environment) {
    #if canImport(Glibc)
      let own = environment.keys.contains { $0 == "GLIBC_TUNABLES" || $0.hasPrefix("MALLOC_") }
      guard !own else { return }
      _ = mallopt(M_TRIM_THRESHOLD, 2 << 20)
    #endif
  }
}
