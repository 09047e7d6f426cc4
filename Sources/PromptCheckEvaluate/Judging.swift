import Foundation
import PromptCheckCore

/// Building judge requests and reading their answers. Pure.
package enum Judging {
  // MARK: Grader

  /// The grader's system message. Plain enough for a small local model (SmolLM2-135M keeps
  /// its scores in range and gives a reason with it; a wordier one made it echo the template).
  package static let graderInstructions = """
    You are a strict grader. Read the rubric and the output. Decide whether the output satisfies the rubric. \
    Answer in JSON with the keys pass (boolean), score (0 to 1) and reason (why).
    """

  static let verdictSchema: JSON = [
    "type": "object",
    "properties": [
      "pass": ["type": "boolean"], "score": ["type": "number"], "reason": ["type": "string"],
    ],
    "required": ["pass", "score", "reason"],
    "additionalProperties": false,
  ]

  /// The formats a verdict is asked in, best first.
  package enum VerdictFormat: String, Sendable, CaseIterable {
    /// `response_format: {type: json_schema, json_schema: {name, strict, schema}}` (OpenAI, OpenRouter).
    case jsonSchema = "json_schema"
    /// `{type: json_object, schema}` (llama.cpp servers read the schema; others ignore it).
    case jsonObject = "json_object"
    /// No response format: the verdict is the first JSON object of the text.
    case text
  }

  /// The grader requests for a rubric on a subject, one per verdict format.
  package static func graderRequests(_ rubric: Rubric, subject: String, for c: PlannedCase) -> [ChatRequest] {
    let (provider, model) = rubric.target.resolved(for: c)
    let messages: [JSON] = [
      ["role": "system", "content": .string(graderInstructions)],
      ["role": "user", "content": .string("<rubric>\n\(rubric.text)\n</rubric>\n\n<output>\n\(subject)\n</output>")],
    ]
    var params = JSONObject()
    params["temperature"] = 0
    for (k, v) in rubric.target.params.members { params[k] = v }
    return VerdictFormat.allCases.map { format in
      var p = params
      switch format {
      case .jsonSchema:
        p["response_format"] = [
          "type": "json_schema", "json_schema": ["name": "verdict", "strict": true, "schema": verdictSchema],
        ]
      case .jsonObject:
        p["response_format"] = ["type": "json_object", "schema": verdictSchema]
      case .text:
        break
      }
      return ChatRequest(provider: provider, model: model, messages: messages, params: p)
    }
  }

  /// The verdict in a grader's answer; with a threshold the score decides.
  package static func verdict(from completion: Completion, threshold: Double?) -> Result<Verdict, JudgeError> {
    let text = completion.splittingThinkTags().content
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    let found: JSON? =
      (try? JSON.parse(trimmed)).flatMap { $0.objectValue != nil ? $0 : nil }
      ?? Transform.firstJSON(in: trimmed).flatMap { try? JSON.parse($0) }
    let seen = trimmed.isEmpty ? "the reply is empty" : "it starts \(Excerpt.start(trimmed))"
    guard let json = found, json.objectValue != nil else {
      return .failure("the grader's reply holds no JSON verdict {pass, score, reason}; \(seen)")
    }
    var pass: Bool?
    switch json["pass"] {
    case .bool(let b)?: pass = b
    case nil, .null?: break
    case let other?:
      return .failure("the grader's verdict has pass \(Excerpt.json(other, length: 40)), not true or false")
    }
    var score: Double?
    switch json["score"] {
    case nil, .null?: break
    case let v?:
      guard let n = v.numberValue, n.isFinite, (0...1).contains(n) else {
        return .failure("the grader's verdict has score \(Excerpt.json(v, length: 40)), not a number from 0 to 1")
      }
      score = n
    }
    guard pass != nil || score != nil else {
      return .failure("the grader's verdict has neither pass nor score: \(Excerpt.json(json))")
    }
    let reason = json["reason"]?.stringValue ?? ""
    let s = score ?? (pass == true ? 1 : 0)
    let decided = threshold.map { s >= $0 } ?? pass ?? (s >= 0.5)
    return .success(Verdict(pass: decided, score: s, reason: reason))
  }

  // MARK: Embeddings

  /// The embeddings calls of a `similar`: one per text, the subject first.
  package static func embeddingRequests(_ s: Similarity, subject: String, for c: PlannedCase) -> [ChatRequest] {
    let (provider, model) = s.target.resolved(for: c)
    return ([subject] + s.values).map {
      ChatRequest(
        provider: provider, model: model, messages: [], params: JSONObject(), endpoint: .embeddings(input: [$0]))
    }
  }

  /// The cosine similarity of the first answer's embedding to each of the others'.
  package static func similarities(from bodies: [JSON]) -> Result<[Double], JudgeError> {
    var vectors: [[Double]] = []
    for (i, body) in bodies.enumerated() {
      guard let data = body["data"]?.arrayValue, data.count == 1 else {
        return .failure("embeddings answer \(i) does not hold exactly one embedding: \(Excerpt.json(body))")
      }
      guard let v = Embedding.vector(data[0]["embedding"]) else {
        return .failure("embeddings answer \(i) is not a list of numbers")
      }
      vectors.append(v)
    }
    guard !vectors.isEmpty else { return .failure("no embeddings") }
    var out: [Double] = []
    for v in vectors.dropFirst() {
      guard v.count == vectors[0].count, let c = cosine(vectors[0], v) else {
        return .failure("the embeddings differ in length or are all zero; they cannot be compared")
      }
      out.append(c)
    }
    return .success(out)
  }

  static func cosine(_ a: [Double], _ b: [Double]) -> Double? {
    var dot = 0.0
    var na = 0.0
    var nb = 0.0
    for i in a.indices {
      dot += a[i] * b[i]
      na += a[i] * a[i]
      nb += b[i] * b[i]
    }
    guard na > 0, nb > 0 else { return nil }
    return dot / (na.squareRoot() * nb.squareRoot())
  }

  // MARK: Exec

  /// What an `exec` command reads on standard input.
  package static func execInput(_ c: PlannedCase, completion: Completion) -> String {
    var o = JSONObject()
    o["case"] = .string(c.id)
    o["test"] = .string(c.testName)
    o["output"] = .string(completion.content)
    o["reasoning"] = .string(completion.reasoning)
    o["response"] = completion.response
    o["vars"] = .object(JSONObject(c.variant.vars.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    return JSON.object(o).serialized()
  }

  /// Reads how a command ended: `{pass, score?, reason?}` on stdout wins, else exit 0 passes, 1 fails.
  package static func execOutcome(status: Int32, stdout: String, stderr: String) -> Result<ExecOutcome, JudgeError> {
    let trimmed = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    if let json = try? JSON.parse(trimmed), json.objectValue != nil, case .bool(let pass)? = json["pass"] {
      var score = json["score"]?.numberValue
      if let s = score, !(0...1).contains(s) { score = nil }
      return .success(
        ExecOutcome(
          passed: pass, score: score, reason: json["reason"]?.stringValue, exitStatus: status, stderr: stderr))
    }
    switch status {
    case 0, 1:
      return .success(ExecOutcome(passed: status == 0, score: nil, reason: nil, exitStatus: status, stderr: stderr))
    default:
      var m = "exited with status \(status) (0 passes, 1 fails)"
      let e = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
      if !e.isEmpty { m += "; stderr: \(Excerpt.start(e, length: 400))" }
      return .failure(JudgeError(m))
    }
  }
}
