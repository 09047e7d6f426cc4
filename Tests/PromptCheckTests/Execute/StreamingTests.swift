import Testing

@testable import PromptCheck
@testable import PromptCheckCompare
@testable import PromptCheckCore
@testable import PromptCheckEvaluate
@testable import PromptCheckExecute
@testable import PromptCheckLoad
@testable import PromptCheckPlan
@testable import PromptCheckReport
@testable import PromptCheckRun
@testable import PromptCheckServe

@Suite struct ServerSentEventsTests {
  @Test func dataLinesWithOrWithoutSpaceCommentsAndLineEnds() {
    let text =
      ": OPENROUTER PROCESSING\r\n\r\ndata: {\"a\":1}\r\n\r\ndata:{\"b\":2}\n\nevent: x\ndata: line1\ndata: line2\nid: 7\n\n: keep-alive\rdata: cr\r\rdata: [DONE]\n\n"
    let events = ServerSentEvents.parse(text)
    #expect(
      events == [
        .init(event: nil, data: "{\"a\":1}", id: nil),
        .init(event: nil, data: "{\"b\":2}", id: nil),
        .init(event: "x", data: "line1\nline2", id: "7"),
        .init(event: nil, data: "cr", id: "7"),
        .init(event: nil, data: "[DONE]", id: "7"),
      ])
  }

  @Test func unterminatedLastEventIsKept() {
    #expect(ServerSentEvents.parse("data: x").map(\.data) == ["x"])
  }
}

@Suite struct StreamAssemblerTests {
  @Test func assemblesContentReasoningToolCallsAndUsage() throws {
    var events = [
      "data: {\"id\":\"g1\",\"model\":\"m\",\"provider\":\"P\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning\":\"Let me \"}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"think.\"}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"ci\"}}]}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"c2\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":\\\"Paris\\\"}\"}}]}}]}",
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7,\"cost\":0.0001}}",
      "data: [DONE]",
    ].joined(separator: "\n\n")
    events += "\n\n"
    let body = try StreamAssembler.assemble(ServerSentEvents.parse(events)).get()
    let c = Completion(response: body, latencyMS: 0)
    #expect(c.content == "Hello")
    #expect(c.reasoning == "Let me think.")
    #expect(
      c.toolCalls == [
        .init(id: "c1", name: "get_weather", arguments: "{\"city\":\"Paris\"}"),
        .init(id: "c2", name: "get_time", arguments: "{}"),
      ])
    #expect(c.finishReason == "tool_calls")
    #expect(c.usage == .init(promptTokens: 5, completionTokens: 2, totalTokens: 7, cost: 0.0001))
    #expect(c.model == "m")
    #expect(c.provider == "P")
  }

  @Test func errorEventAndTruncation() {
    let err = ServerSentEvents.parse(
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\",\"code\":502}}\n\n"
    )
    #expect(
      StreamAssembler.assemble(err)
        == .failure(
          .errorEvent(message: "overloaded (code 502)", body: ["error": ["message": "overloaded", "code": 502]])))
    let cut = ServerSentEvents.parse("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n")
    #expect(StreamAssembler.assemble(cut) == .failure(.truncated(events: 1)))
  }
}

@Suite struct ChatRequestTests {
  @Test func bodyHoldsModelMessagesAndExactlyTheParamsInOrder() {
    var params = JSONObject()
    params["temperature"] = 0
    params["seed"] = 42
    params["stop"] = ["\n\n"]
    let r = ChatRequest(
      provider: .builtInOpenRouter, model: "qwen/qwen3-32b", messages: [["role": "user", "content": "hi"]],
      params: params)
    #expect(
      r.body.serialized()
        == "{\"model\":\"qwen/qwen3-32b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0,\"seed\":42,\"stop\":[\"\\n\\n\"]}"
    )
    #expect(r.url == "https://openrouter.ai/api/v1/chat/completions")
    #expect(r.urlPath == "/api/v1/chat/completions")
  }

  @Test func streamedRequestsAskForUsage() {
    var params = JSONObject()
    params["stream"] = true
    let r = ChatRequest(provider: .builtInOpenRouter, model: "m", messages: [], params: params)
    #expect(r.body["stream_options"] == ["include_usage": true])
  }

  @Test func retryAfterSecondsAndHTTPDate() {
    #expect(RetryAfter.seconds("2", now: 0) == 2)
    #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
    #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:40 GMT", now: 784_111_777) == 3)
    #expect(RetryAfter.seconds("soon", now: 0) == nil)
  }
}
