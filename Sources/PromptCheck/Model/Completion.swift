/// What a chat-completions call produced, decoded once from the response body
/// (for a streamed call, from the completion assembled out of the stream).
package struct Completion: Sendable {
  package struct ToolCall: Sendable, Equatable {
    package var id: String?
    package var name: String
    /// The arguments as the model wrote them (a JSON text, when the model behaves).
    package var arguments: String
  }

  package struct Usage: Sendable, Equatable {
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var totalTokens: Int?
    /// OpenRouter's `usage.cost`, in USD.
    package var cost: Double?
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
      usage = Usage(
        promptTokens: int("prompt_tokens"), completionTokens: int("completion_tokens"),
        totalTokens: int("total_tokens"), cost: u["cost"]?.numberValue)
    }
    self.init(
      content: content, reasoning: reasoning, toolCalls: calls, finishReason: choice?["finish_reason"]?.stringValue,
      usage: usage, model: response["model"]?.stringValue, provider: response["provider"]?.stringValue,
      systemFingerprint: response["system_fingerprint"]?.stringValue, response: response, latencyMS: latencyMS)
  }
}
