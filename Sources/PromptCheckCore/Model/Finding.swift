/// The result of one assertion on one completion. A failure is a value, not an error.
package struct Finding: Sendable, Equatable {
  /// `assert[2]` or `assert[2] (name)`.
  package var label: String
  /// `contains`, `not-regex`, …
  package var kind: String
  package var passed: Bool
  /// For a failure: what was expected and what was seen. For a pass: a short confirmation.
  package var message: String
  /// Where the assertion is written.
  package var location: SourceLocation?
  /// A judged assertion's score in 0…1 (the grader's, the similarity found, the command's).
  package var score: Double? = nil
  /// A judge's reason (the grader's, the command's).
  package var reason: String? = nil
  /// Its weight in the test's score (README "Weights and threshold").
  package var weight: Double = 1
  /// A conversation's turn check: the turn it checked (README "Conversations").
  package var turn: Int? = nil
  /// `metric:` of its assertion: the label reports total by.
  package var metric: String? = nil

  /// `assert[1] contains: expected …`
  package var description: String { label == kind ? "\(label): \(message)" : "\(label) \(kind): \(message)" }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(
    label: String, kind: String, passed: Bool, message: String, location: SourceLocation? = nil, score: Double? = nil,
    reason: String? = nil, weight: Double = 1
  ) {
    self.label = label
    self.kind = kind
    self.passed = passed
    self.message = message
    self.location = location
    self.score = score
    self.reason = reason
    self.weight = weight
  }
}
