import PromptCheckCore

/// The report files a run or a merge writes (README "Reports").
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

  /// Writes every report of a report held whole (`merge`); prints each that cannot be written.
  /// False when any could not be.
  package func write(_ report: Report, _ ctx: CommandContext) -> Bool {
    let stream = ReportStream(self, absolute: ctx.absolute)
    for c in report.cases { stream.add(c) }
    return stream.finish(report.head, report.totals, ctx)
  }
}
