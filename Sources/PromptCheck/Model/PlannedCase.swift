/// One case to run: a test variant, and for a repeated test one repetition.
public struct PlannedCase: Sendable {
  /// Position in the full plan, before filtering and sharding: merged shard
  /// reports are put back in this order.
  public var index: Int = 0
  /// `SUITE/TEST-SLUG[k=v]#N`
  public var id: String
  /// The id without `#N`: the repeat group.
  public var groupID: String
  public var suite: String
  public var suiteFile: String
  public var testName: String
  /// `TEST-SLUG--k-v--rN`: cassette and golden file name, without extension.
  public var fileStem: String
  public var location: SourceLocation
  public var tags: [String]
  public var provider: Provider
  public var model: String
  public var variant: TestVariant
  public var golden: GoldenSpec?
  public var repeatIndex: Int?
  public var repeatCount: Int
  public var minPassRate: Double?
  public var skip: String?

  public var request: ChatRequest {
    ChatRequest(provider: provider, model: model, messages: variant.messages, params: variant.params)
  }
}
