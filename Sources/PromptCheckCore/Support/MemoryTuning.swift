import CLinux

#if canImport(Glibc)
  import Glibc
#endif

/// The allocator's settings for a long run (glibc's `mallopt`, through the CLinux shim).
package enum MemoryTuning {
  /// Two settings, for a run's pattern (thousands of cases allocating and freeing on several
  /// threads at once):
  /// - glibc's threshold for giving large blocks their own mapping stays at its starting 128 KiB.
  ///   Left alone, glibc raises it each time such a block is freed, so after loading (a suite's
  ///   node tree and file buffers are large and short-lived) later large blocks come from the
  ///   heap, whose freed space is not given back: a replay of 100,000 cases peaked about 10 MB
  ///   higher.
  /// - Up to 2 MiB freed at the top of a heap is kept for the next allocation (the default is
  ///   128 KiB). glibc otherwise hands it back to the kernel at once (`madvise`), and each such
  ///   return interrupts the other cores to flush their address caches: about a tenth of the CPU
  ///   of a replay of 10,000 cases. A larger figure saved no more and raised the peak of 100,000
  ///   cases in 10 files from 96 to 100–103 MB.
  /// A user's own `GLIBC_TUNABLES` or `MALLOC_*_` settings are left as set.
  package static func tuneForARun(environment: [String: String]) {
    #if canImport(Glibc)
      guard !environment.keys.contains(where: { $0 == "GLIBC_TUNABLES" || $0.hasPrefix("MALLOC_") }) else { return }
      _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
      _ = mallopt(M_TRIM_THRESHOLD, 2 << 20)
    #endif
  }
}
