#if canImport(Glibc)
  import Glibc
#endif

/// The allocator's settings for a long run.
package enum MemoryTuning {
  /// Keeps glibc's threshold for giving large blocks their own mapping at its starting 128 KiB.
  /// Left alone, glibc raises it each time such a block is freed, so after loading (a suite's
  /// node tree and file buffers are large and short-lived) later large blocks come from the heap,
  /// whose freed space is not given back: a replay of 100,000 cases peaked about 10 MB higher.
  /// `mallopt` is looked up at run time (the C library module does not export it); where there is
  /// none (not glibc), nothing changes.
  package static func keepLargeBlocksMapped() {
    #if canImport(Glibc)
      typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
      // nil is RTLD_DEFAULT: the symbol as the process already links it.
      guard let symbol = dlsym(nil, "mallopt") else { return }
      let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
      let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>
      _ = mallopt(mmapThreshold, 128 * 1024)
    #endif
  }
}
