/// What a chat-completions call produced, decoded once from the response body
/// (for a streamed call, from the completion assembled out of the stream).
package struct Completion: Sendable {
  package struct ToolCall: Sendable, Equatable {
    package var id: String?
    package var name: String
    /// The arguments as the model wrote them (a JSON text, when the model behaves).
    package var arguments: String

    package init(id: String?, name: String, arguments: String) {
      self.id = id
      self.name = name
      self.arguments = arguments
    }
  }

  package struct Usage: Sendable, Equatable {
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var totalTokens: Int?
    /// `completion_tokens_details.reasoning_tokens`: the thinking, counted within the completion.
    package var reasoningTokens: Int?
    /// `prompt_tokens_details.cached_tokens`: prompt tokens served from a cache.
    package var cachedTokens: Int?
    /// OpenRouter's `usage.cost`, in USD (or, where the server reports none, the provider's `pricing`).
    package var cost: Double?
    /// True when `cost` comes from the provider's `pricing`, not from the server.
    package var costIsEstimated = false

    package init(
      promptTokens: Int? = nil, completionTokens: Int? = nil, totalTokens: Int? = nil, reasoningTokens: Int? = nil,
      cachedTokens: Int? = nil, cost: Double? = nil, costIsEstimated: Bool = false
    ) {
      self.promptTokens = promptTokens
      self.completionTokens = completionTokens
      self.totalTokens = totalTokens
      self.reasoningTokens = reasoningTokens
      self.cachedTokens = cachedTokens
      self.cost = cost
      self.costIsEstimated = costIsEstimated
    }

    /// Two calls' usage added up (a field stays nil only when both lack it).
    package func adding(_ o: Usage) -> Usage {
      func sum(_ a: Int?, _ b: Int?) -> Int? { a == nil && b == nil ? nil : (a ?? 0) + (b ?? 0) }
      return Usage(
        promptTokens: sum(promptTokens, o.promptTokens), completionTokens: sum(completionTokens, o.completionTokens),
        totalTokens: sum(totalTokens, o.totalTokens), reasoningTokens: sum(reasoningTokens, o.reasoningTokens),
        cachedTokens: sum(cachedTokens, o.cachedTokens),
        cost: cost == nil && o.cost == nil ? nil : (cost ?? 0) + (o.cost ?? 0),
        costIsEstimated: costIsEstimated || o.costIsEstimated)
    }
  }

  /// The assistant message's content ("" when null).
  package var content: String
  /// `reasoning` (OpenRouter) or `reasoning_content` (some servers); "" when none.
  package var reasoning: String
  package var toolCalls: [ToolCall]
  package var finishReason: String?
  package var usage: Usage?
  package var model: String?
  package var provider: String?
  package var systemFingerprint: String?
  /// The whole response body.
  package var response: JSON
  /// How long the call took (for a replay: the recorded duration).
  package var latencyMS: Int

  package init(
    content: String, reasoning: String = "", toolCalls: [ToolCall] = [], finishReason: String? = nil,
    usage: Usage? = nil, model: String? = nil, provider: String? = nil, systemFingerprint: String? = nil,
    response: JSON = .object(JSONObject()), latencyMS: Int = 0
  ) {
    self.content = content
    self.reasoning = reasoning
    self.toolCalls = toolCalls
    self.finishReason = finishReason
    self.usage = usage
    self.model = model
    self.provider = provider
    self.systemFingerprint = systemFingerprint
    self.response = response
    self.latencyMS = latencyMS
  }

  /// Decodes an OpenAI-style chat-completions response body (first choice).
  package init(response: JSON, latencyMS: Int) {
    let choice = response["choices"]?.arrayValue?.first
    let message = choice?["message"]
    var content = ""
    switch message?["content"] {
    case .string(let s)?: content = s
    case .array(let parts)?:
      // Content parts: the text parts, joined.
      content = parts.compactMap { $0["text"]?.stringValue }.joined()
    default: break
    }
    let reasoning = message?["reasoning"]?.stringValue ?? message?["reasoning_content"]?.stringValue ?? ""
    var calls: [ToolCall] = []
    for call in message?["tool_calls"]?.arrayValue ?? [] {
      let function = call["function"]
      let arguments: String
      switch function?["arguments"] {
      case .string(let s)?: arguments = s
      case let other?: arguments = other.serialized()
      case nil: arguments = ""
      }
      calls.append(
        ToolCall(id: call["id"]?.stringValue, name: function?["name"]?.stringValue ?? "", arguments: arguments))
    }
    var usage: Usage?
    if let u = response["usage"], u.objectValue != nil {
      func int(_ k: String) -> Int? {
        switch u[k] {
        case .int(let i)?: return i
        case .double(let d)?: return Int(exactly: d)
        default: return nil
        }
      }
      func detail(_ group: String, _ k: String) -> Int? {
        switch u[group]?[k] {
        case .int(let i)?: return i
        case .double(let d)?: return Int(exactly: d)
        default: return nil
        }
      }
      usage = Usage(
        promptTokens: int("prompt_tokens"), completionTokens: int("completion_tokens"),
        totalTokens: int("total_tokens"), reasoningTokens: detail("completion_tokens_details", "reasoning_tokens"),
        cachedTokens: detail("prompt_tokens_details", "cached_tokens"), cost: u["cost"]?.numberValue)
    }
    self.init(
      content: content, reasoning: reasoning, toolCalls: calls, finishReason: choice?["finish_reason"]?.stringValue,
      usage: usage, model: response["model"]?.stringValue, provider: response["provider"]?.stringValue,
      systemFingerprint: response["system_fingerprint"]?.stringValue, response: response, latencyMS: latencyMS)
  }
}

extension Completion {
  /// Some providers put a model's thinking inline, as `<think>…</think>` at the start of the
  /// content (qwen3). It moves to the reasoning, and the content keeps only the answer; an
  /// unclosed block (the answer cut off while thinking) is all reasoning. The response body
  /// (`on: response`, cassettes) is left as sent.
  package func splittingThinkTags() -> Completion {
    let trimmed = content.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
    guard trimmed.hasPrefix("<think>") else { return self }
    let inner = trimmed.dropFirst("<think>".count)
    var c = self
    let thinking: Substring
    if let close = inner.range(of: "</think>") {
      thinking = inner[..<close.lowerBound]
      c.content = String(inner[close.upperBound...].drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
    } else {
      thinking = inner
      c.content = ""
    }
    let text = thinking.trimmingCharacters(in: " \n\r\t")
    c.reasoning = reasoning.isEmpty ? text : reasoning + "\n" + text
    return c
  }

  /// An embeddings answer has prompt tokens only: its completion tokens are 0, so it can be priced.
  package func withEmbeddingUsage(_ isEmbeddings: Bool) -> Completion {
    guard isEmbeddings, var u = usage, u.completionTokens == nil else { return self }
    u.completionTokens = 0
    var c = self
    c.usage = u
    return c
  }

  /// The usage with a cost from `pricing` where the server reported none.
  package func pricedWith(_ pricing: Provider.Pricing?) -> Completion {
    guard let pricing, var u = usage, u.cost == nil, let p = u.promptTokens, let k = u.completionTokens else {
      return self
    }
    u.cost = pricing.cost(promptTokens: p, completionTokens: k)
    u.costIsEstimated = true
    var c = self
    c.usage = u
    return c
  }
}

extension Completion {
  /// The canonical text of a content and its tool calls: content JSON pretty-printed with
  /// sorted keys, tool calls as canonical JSON (what golden and comparison text is made of).
  package static func canonical(content: String, toolCalls: [Completion.ToolCall] = []) -> String {
    var text = content
    let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("{") || trimmed.hasPrefix("["), let json = try? JSON.parse(trimmed) {
      text = json.prettyPrinted(keys: .sorted)
    }
    if !toolCalls.isEmpty {
      let calls = JSON.array(
        toolCalls.map { call in
          .object(
            JSONObject([
              ("name", .string(call.name)), ("arguments", (try? JSON.parse(call.arguments)) ?? .string(call.arguments)),
            ]))
        })
      text += (text.isEmpty ? "" : "\n") + "tool calls:\n" + calls.prettyPrinted(keys: .sorted)
    }
    return text
  }
}
