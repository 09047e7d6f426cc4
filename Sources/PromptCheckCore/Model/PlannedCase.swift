/// One case to run: a test variant, and for a repeated test one repetition.
package struct PlannedCase: Sendable {
  /// Position in the full plan, before filtering and sharding: merged shard
  /// reports are put back in this order.
  package var index: Int = 0
  package var repeatIndex: Int?
  /// The test and the variant this case is: shared by its cases (a plan of 100,000 cases does
  /// not hold 100,000 copies of them).
  package var test: TestDefinition
  package var variant: TestVariant

  package init(repeatIndex: Int?, test: TestDefinition, variant: TestVariant) {
    self.repeatIndex = repeatIndex
    self.test = test
    self.variant = variant
  }

  // What follows is derived when asked, not held: a plan of 100,000 cases keeps a few words per
  // case, not its ids and file names.
  /// `SUITE/TEST-SLUG[k=v]#N`
  package var id: String { id(repeatIndex: repeatIndex) }
  /// The id without `#N`: the repeat group.
  package var groupID: String { id(repeatIndex: nil) }
  /// `TEST-SLUG--k-v--rN`: cassette and golden file name, without extension.
  package var fileStem: String { fileStem(repeatIndex: repeatIndex) }
  /// The group's file stem (no `--rN`): a repeated test has one golden.
  package var goldenStem: String { fileStem(repeatIndex: nil) }

  private func id(repeatIndex: Int?) -> String {
    CaseID.id(
      suite: test.suite, slug: test.slug, matrix: variant.matrix, target: variant.target, repeatIndex: repeatIndex)
  }
  private func fileStem(repeatIndex: Int?) -> String {
    CaseID.fileStem(slug: test.slug, matrix: variant.matrix, target: variant.target, repeatIndex: repeatIndex)
  }
  package var suite: String { test.suite }
  package var suiteFile: String { test.location.file }
  package var testName: String { test.name }
  package var location: SourceLocation { test.location }
  package var tags: [String] { test.tags }
  package var provider: Provider { variant.provider }
  package var model: String { variant.model }
  package var golden: GoldenSpec? { test.golden }
  package var repeatCount: Int { test.repeatCount ?? 1 }
  /// Adaptive repeats: the fewest samples before the SPRT may stop.
  package var adaptiveMin: Int? { test.repeatMin }
  package var minPassRate: Double? { test.minPassRate }
  package var confidence: Double? { test.confidence }
  package var skip: String? { test.skip }

  /// When the suite compares targets or prompt versions: which one this case is
  /// (`prompt v2 @ local:smollm2`), and the id of the row it shares with the others.
  package var column: String? {
    let version = variant.matrix.first { $0.key == "prompt" }?.value
    guard version != nil || variant.target != nil else { return nil }
    return [version.map { "prompt \($0)" }, variant.target].compactMap { $0 }.joined(separator: " @ ")
  }
  package var rowID: String {
    var id = groupID
    if let target = variant.target, id.hasSuffix("@" + target) { id.removeLast(target.count + 1) }
    if let v = variant.matrix.first(where: { $0.key == "prompt" })?.value {
      id = id.replacingOccurrences(of: ",prompt=\(v)]", with: "]").replacingOccurrences(of: "[prompt=\(v)]", with: "")
    }
    return id
  }
}
