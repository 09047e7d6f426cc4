import Foundation
import PromptCheckCore

#if canImport(Glibc)
  import Glibc
#endif

/// One report format, written case by case: each case's section goes to a spool as the case is
/// reported, and the whole is put together once the run's totals (which its head shows) are known.
protocol ReportSections {
  mutating func add(_ c: ReportCase, to spool: Spool)
  /// The head, the spooled sections in the report's order, the end.
  func assemble(_ head: ReportHead, _ totals: ReportTotals, from spool: Spool, to sink: ([UInt8]) -> Void)
}

extension ReportSections {
  /// A whole report in memory (`merge`'s, and tests').
  func render(_ report: Report) -> [UInt8] {
    var sections = self
    let spool = Spool()
    for c in report.cases { sections.add(c, to: spool) }
    var out: [UInt8] = []
    sections.assemble(report.head, report.totals, from: spool) { out += $0 }
    return out
  }
}

/// Where a report's case sections wait while a run streams: a temporary file beside the report,
/// unlinked as soon as it is opened (nothing is left behind, whatever happens to the run), or
/// memory when no such file can be made. Written in pieces of about a megabyte.
final class Spool {
  private var pending: [UInt8] = []
  private var fd: Int32 = -1
  /// Bytes in the file (the rest are pending in memory).
  private var written = 0
  /// The file took no more (a full disk): what follows stays in memory.
  private var fileFull = false
  /// Why the spool could not be read back; the report is then not written.
  private(set) var failure: String?
  /// Pending bytes that go to the file at once.
  private let flushAt: Int
  /// While a report is put together in its file (which its sink writes to, unbuffered): the
  /// spool's file part goes straight there, copied by the kernel (`sendfile`), not through memory.
  var sendTo: Int32?

  /// A spool in memory.
  init() { flushAt = Int.max }

  /// A spool in a temporary file in the folder of `path` (created if needed).
  init(beside path: String, flushAt: Int = 1 << 20) {
    self.flushAt = flushAt
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    let name = (path as NSString).lastPathComponent
    let spool =
      (folder.isEmpty ? "." : folder) + "/.\(name).cases-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let f = open(spool, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if f >= 0 {
      unlink(spool)
      fd = f
    }
  }

  deinit { if fd >= 0 { close(fd) } }

  var count: Int { written + pending.count }

  /// Appends what `build` writes; where it went.
  func append(_ build: (inout [UInt8]) -> Void) -> Range<Int> {
    let start = count
    build(&pending)
    let end = count
    if fd >= 0 && !fileFull && pending.count >= flushAt { flush() }
    return start..<end
  }

  private func flush() {
    let n = FileSystem.writeAll(fd, pending[...])
    if n < pending.count { fileFull = true }
    written += n
    pending.removeFirst(n)
  }

  /// Hands the bytes of `range` to `sink`, at most 256 KiB at a time (each piece read into an
  /// array of its own size; the pending bytes handed over whole when the range takes them all).
  func copy(_ range: Range<Int>, to sink: ([UInt8]) -> Void) {
    var lower = range.lowerBound
    let upper = min(range.upperBound, written)
    if let target = sendTo, lower < upper {
      var offset = off_t(lower)
      while offset < upper {
        let n = sendfile(target, fd, &offset, upper - Int(offset))
        if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
        if n < 0 && (errno == EINVAL || errno == ENOSYS) {
          // A file system that cannot: the rest goes through memory, as below.
          sendTo = nil
          break
        }
        if n <= 0 {
          failure = n < 0 ? String(cString: strerror(errno)) : "its cases could not be read back"
          return
        }
      }
      lower = Int(offset)
    }
    while lower < upper {
      let want = min(1 << 18, upper - lower)
      guard let piece = FileSystem.read(fd, count: want, at: lower) else {
        failure = String(cString: strerror(errno))
        return
      }
      guard piece.count == want else {
        failure = "its cases could not be read back"
        return
      }
      sink(piece)
      lower += want
    }
    if lower < range.upperBound {
      if lower == written && range.upperBound == count {
        sink(pending)
      } else {
        sink(Array(pending[(lower - written)..<(range.upperBound - written)]))
      }
    }
  }
}

/// Ranges of a spool in order, neighbours joined: a suite's cases usually follow one another.
struct SpoolRanges {
  private(set) var ranges: [Range<Int>] = []
  mutating func append(_ r: Range<Int>) {
    if let last = ranges.last, last.upperBound == r.lowerBound {
      ranges[ranges.count - 1] = last.lowerBound..<r.upperBound
    } else {
      ranges.append(r)
    }
  }
  func copy(from spool: Spool, to sink: ([UInt8]) -> Void) {
    for r in ranges { spool.copy(r, to: sink) }
  }
}

/// A run's report files, written as it streams (README "Reports"): each case's section goes to a
/// spool beside its report when the case is reported, and the case is then let go; when the run
/// ends, each report is its head (the totals), then its sections, written to a temporary file and
/// renamed into place. It keeps nothing of a case; the totals the heads show come with `finish`.
package final class ReportStream: RunReporter {
  private struct Output {
    var path: String
    var spool: Spool
    var sections: any ReportSections
  }

  private var outputs: [Output] = []

  /// `absolute` turns a report path as given into the one to write; a spool's pending sections go
  /// to its file once they reach `spoolFlush` bytes.
  package init(_ writer: ReportWriter, absolute: (String) -> String, spoolFlush: Int = 1 << 20) {
    func spool(_ path: String) -> Spool { Spool(beside: absolute(path), flushAt: spoolFlush) }
    if let p = writer.junit {
      outputs.append(Output(path: p, spool: spool(p), sections: JUnitReport.Sections(writer.junitOptions)))
    }
    if let p = writer.json {
      outputs.append(Output(path: p, spool: spool(p), sections: JSONReport.Sections()))
    }
    if let p = writer.html {
      outputs.append(Output(path: p, spool: spool(p), sections: HTMLReport.Sections()))
    }
  }

  package func handle(_ event: RunEvent) {
    if case .caseReported(let c) = event { add(c) }
  }

  package func add(_ c: ReportCase) {
    for i in outputs.indices { outputs[i].sections.add(c, to: outputs[i].spool) }
  }

  /// Writes every report; prints each that cannot be written. False when any could not be.
  package func finish(_ head: ReportHead, _ totals: ReportTotals, _ ctx: CommandContext) -> Bool {
    var ok = true
    for o in outputs {
      do {
        let stream = try AtomicFile.Stream(try ctx.writable(o.path))
        o.spool.sendTo = stream.descriptor
        o.sections.assemble(head, totals, from: o.spool) { stream.write($0) }
        if let failure = o.spool.failure { throw AtomicFile.WriteError(path: ctx.absolute(o.path), reason: failure) }
        try stream.commit()
      } catch {
        ctx.err("error: the report could not be written: \(error)\n")
        ok = false
      }
    }
    outputs.removeAll()
    return ok
  }
}
