/// The result of one assertion on one completion. A failure is a value, not an error.
public struct Finding: Sendable, Equatable {
  /// `assert[2]` or `assert[2] (name)`.
  public var label: String
  /// `contains`, `not-regex`, …
  public var kind: String
  public var passed: Bool
  /// For a failure: what was expected and what was seen. For a pass: a short confirmation.
  public var message: String
  /// Where the assertion is written.
  public var location: SourceLocation?

  /// `assert[1] contains: expected …`
  public var description: String { label == kind ? "\(label): \(message)" : "\(label) \(kind): \(message)" }
}
