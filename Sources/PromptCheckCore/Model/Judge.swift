/// Who answers a judge call (README "Judged assertions"): a provider and model from the
/// config, or nil for the case's own.
package struct JudgeTarget: Sendable {
  package var provider: Provider?
  package var model: String?
  /// Request parameters of a grader call (`temperature: 0` unless set).
  package var params: JSONObject

  package init(provider: Provider? = nil, model: String? = nil, params: JSONObject = JSONObject()) {
    self.provider = provider
    self.model = model
    self.params = params
  }

  /// This target with `over`'s choices winning where it makes them (params key by key).
  package func overlaid(by over: JudgeTarget) -> JudgeTarget {
    var out = self
    if let p = over.provider {
      out.provider = p
      // A named provider brings its own model unless one is named too.
      out.model = over.model ?? p.model
    } else if let m = over.model {
      out.model = m
    }
    for (k, v) in over.params.members { out.params[k] = v }
    return out
  }

  /// The provider and model a call of case `c` goes to.
  package func resolved(for c: PlannedCase) -> (provider: Provider, model: String) {
    let provider = self.provider ?? c.provider
    return (provider, model ?? (self.provider != nil ? provider.model : nil) ?? c.model)
  }
}

/// `llm-rubric`: a grader model decides whether the subject meets the rubric.
package struct Rubric: Sendable {
  package var text: String
  /// With a threshold the grader's score decides (score ≥ threshold); without, its `pass`.
  package var threshold: Double?
  package var target: JudgeTarget
  /// `min_kappa` / `min_labels`: the labels this grader's verdicts must agree with.
  package var calibration: CalibrationGate?

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(text: String, threshold: Double? = nil, target: JudgeTarget, calibration: CalibrationGate? = nil) {
    self.text = text
    self.threshold = threshold
    self.target = target
    self.calibration = calibration
  }
}

/// `similar`: cosine similarity of embeddings against one or more reference texts.
package struct Similarity: Sendable {
  package var values: [String]
  package var threshold: Double
  package var target: JudgeTarget
  /// `min_kappa` / `min_labels`: the labels these verdicts must agree with.
  package var calibration: CalibrationGate?

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(values: [String], threshold: Double, target: JudgeTarget, calibration: CalibrationGate? = nil) {
    self.values = values
    self.threshold = threshold
    self.target = target
    self.calibration = calibration
  }
}

/// `exec`: a local command that judges the case from its JSON on standard input.
package struct ExecCommand: Sendable {
  /// The program and its arguments (`/bin/sh -c STRING` for a shell string).
  package var argv: [String]
  /// As written, for messages.
  package var display: String
  package var timeoutMS: Int

  package static let defaultTimeoutMS = 10_000

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(argv: [String], display: String, timeoutMS: Int) {
    self.argv = argv
    self.display = display
    self.timeoutMS = timeoutMS
  }
}

/// `transform`: shapes a subject's text before it is checked (README "Shaping before checking").
package enum Transform: Sendable {
  /// Removes a surrounding Markdown code fence (```json … ```).
  case stripCodeFence
  /// The first JSON object or array in the text, as JSON text.
  case extractJSON
  /// The first match's first capture group (the whole match when the pattern has none).
  case regexCapture(CompiledRegex)
  /// Whitespace removed from both ends.
  case trim
  /// The JSON text's first node at the path (a string as its text, anything else as JSON).
  case jsonPath(JSONPath, String)

  package var name: String {
    switch self {
    case .stripCodeFence: "strip-code-fence"
    case .extractJSON: "extract-json"
    case .regexCapture(let r): "regex-capture /\(r.pattern)/"
    case .trim: "trim"
    case .jsonPath(_, let text): "json-path \(text)"
    }
  }
}

/// A grader's decision.
package struct Verdict: Sendable, Equatable {
  package var pass: Bool
  package var score: Double
  package var reason: String

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(pass: Bool, score: Double, reason: String) {
    self.pass = pass
    self.score = score
    self.reason = reason
  }
}

/// What the judges found for one assertion (by `Assertion.key`), before it is evaluated.
package enum Judgement: Sendable {
  case verdict(Verdict)
  /// One similarity per reference value, in order.
  case similarities([Double])
  case exec(ExecOutcome)
}

/// How an `exec` command ended.
package struct ExecOutcome: Sendable, Equatable {
  package var passed: Bool
  package var score: Double?
  package var reason: String?
  package var exitStatus: Int32
  package var stderr: String

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(passed: Bool, score: Double? = nil, reason: String? = nil, exitStatus: Int32, stderr: String) {
    self.passed = passed
    self.score = score
    self.reason = reason
    self.exitStatus = exitStatus
    self.stderr = stderr
  }
}

/// Why a judge gave no judgement: an unusable verdict, a failed command, a transform that found nothing.
package struct JudgeError: Error, Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
  package var message: String
  package var description: String { message }

  package init(_ message: String) { self.message = message }
  package init(stringLiteral value: String) { message = value }
  package init(stringInterpolation: DefaultStringInterpolation) {
    message = String(stringInterpolation: stringInterpolation)
  }
}

/// One judge a case needs before its assertions are evaluated (README "Judged assertions").
package struct JudgeCall: Sendable {
  package enum Work: Sendable {
    /// A grader call: the same request in each verdict format, the best first (a server that
    /// refuses one is asked in the next).
    case grader([ChatRequest], threshold: Double?)
    /// One embeddings call per text: the subject first, then every reference value (servers
    /// such as llama-cpp-python 0.3 mix up the inputs of one batched call).
    case embeddings([ChatRequest])
    /// A local command, with the case as JSON on its standard input.
    case exec(ExecCommand, input: String)
  }

  /// The assertion's `key`: where the judgement goes.
  package var key: String
  /// `assert[1] (llm-rubric)`, for messages.
  package var label: String
  package var work: Work

  /// The requests a cassette may hold for this call (none for `exec`).
  package var requests: [ChatRequest] {
    switch work {
    case .grader(let ladder, _): ladder
    case .embeddings(let each): each
    case .exec: []
    }
  }

  package var isEmbeddings: Bool {
    if case .embeddings = work { return true }
    return false
  }

  /// Every stored property (the memberwise initializer, visible to the package).
  package init(key: String, label: String, work: Work) {
    self.key = key
    self.label = label
    self.work = work
  }
}

/// An embeddings answer's vectors.
package enum Embedding {
  /// A vector; a list of token vectors (a server without pooling) is mean-pooled.
  package static func vector(_ j: JSON?) -> [Double]? {
    guard let list = j?.arrayValue, !list.isEmpty else { return nil }
    if list.allSatisfy({ $0.arrayValue != nil }) {
      let rows = list.compactMap { $0.arrayValue?.compactMap(\.numberValue) }
      guard let width = rows.first?.count, width > 0, rows.allSatisfy({ $0.count == width }),
        rows.count == list.count, zip(rows, list).allSatisfy({ $0.count == $1.arrayValue?.count })
      else { return nil }
      var sum = [Double](repeating: 0, count: width)
      for row in rows { for k in 0..<width { sum[k] += row[k] } }
      return sum.map { $0 / Double(rows.count) }
    }
    let numbers = list.compactMap(\.numberValue)
    return numbers.count == list.count ? numbers : nil
  }
}
