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
}

/// `similar`: cosine similarity of embeddings against one or more reference texts.
package struct Similarity: Sendable {
  package var values: [String]
  package var threshold: Double
  package var target: JudgeTarget
}

/// `exec`: a local command that judges the case from its JSON on standard input.
package struct ExecCommand: Sendable {
  /// The program and its arguments (`/bin/sh -c STRING` for a shell string).
  package var argv: [String]
  /// As written, for messages.
  package var display: String
  package var timeoutMS: Int

  package static let defaultTimeoutMS = 10_000
}

/// `transform`: shapes a subject's text before it is checked (README "Shaping before checking").
package enum Transform: Sendable {
  /// Removes a surrounding Markdown code fence (```json … ```).
  case stripCodeFence
  /// The first JSON object or array in the text, as JSON text.
  case extractJSON
  /// The first match's first capture group (the whole match when the pattern has none).
  case regexCapture(CompiledRegex)

  package var name: String {
    switch self {
    case .stripCodeFence: "strip-code-fence"
    case .extractJSON: "extract-json"
    case .regexCapture(let r): "regex-capture /\(r.pattern)/"
    }
  }
}

/// A grader's decision.
package struct Verdict: Sendable, Equatable {
  package var pass: Bool
  package var score: Double
  package var reason: String
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
}

/// Why a judge gave no judgement: an unusable verdict, a failed command, a transform that found nothing.
package struct JudgeProblem: Error, Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
  package var message: String
  package var description: String { message }

  package init(_ message: String) { self.message = message }
  package init(stringLiteral value: String) { message = value }
  package init(stringInterpolation: DefaultStringInterpolation) {
    message = String(stringInterpolation: stringInterpolation)
  }
}
