/// Writes the report files of a run or a merge, each atomically.
package struct ReportWriter: Sendable {
  package var junit: String?
  package var json: String?
  package var html: String?
  package var junitOptions = JUnitReport.Options()

  package init(junit: String?, json: String?, html: String?, junitFileAttributes: Bool = false) {
    self.junit = junit
    self.json = json
    self.html = html
    junitOptions.fileAttributes = junitFileAttributes
  }

  /// Writes every report; prints each that cannot be written. False when any could not be.
  package func write(_ report: Report, _ ctx: CommandContext) -> Bool {
    var outputs: [(String, (([UInt8]) -> Void) -> Void)] = []
    if let junit { outputs.append((junit, { $0(Array(JUnitReport.render(report, options: junitOptions).utf8)) })) }
    if let json { outputs.append((json, { JSONReport.write(report, to: $0) })) }
    if let html { outputs.append((html, { $0(Array(HTMLReport.render(report).utf8)) })) }
    var ok = true
    for (path, render) in outputs {
      do {
        // Written as it is rendered, then renamed into place.
        let stream = try AtomicFile.Stream(ctx.absolute(path))
        render { stream.write($0) }
        try stream.commit()
      } catch {
        ctx.err("error: the report could not be written: \(error)\n")
        ok = false
      }
    }
    return ok
  }
}
