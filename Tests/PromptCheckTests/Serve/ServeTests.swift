import Foundation
import LoopbackServer
import Synchronization
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

@Suite(.serialized) struct ServeTests {
  @Test(.enabled(if: openaiSDKAvailable, "python3 with the openai package is not installed"))
  func theOpenAISDKReplaysAJSONAnswerAndAStreamByteForByte() async throws {
    let s = try await Served()
    defer { s.server.stop() }
    let script = """
      import json, sys, openai
      client = openai.OpenAI(base_url=sys.argv[1], api_key="unused", max_retries=0)
      r = client.chat.completions.with_raw_response.create(model="test-model", messages=[{"role": "user", "content": "Say hello"}], temperature=0)
      sys.stdout.write(r.http_response.text + "\\n---\\n")
      stream = client.chat.completions.with_raw_response.create(model="test-model", messages=[{"role": "user", "content": "Count to three"}], stream=True)
      sys.stdout.write(stream.http_response.read().decode() + "---\\n")
      parsed = client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "Count to three"}], stream=True)
      sys.stdout.write("".join(c.choices[0].delta.content or "" for c in parsed if c.choices) + "\\n---\\n")
      try:
          client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "Say goodbye"}])
      except openai.NotFoundError as e:
          sys.stdout.write(e.message)
      """
    let r = try await Shell.run("python3", ["-c", script, s.baseURL])
    let parts = r.output.components(separatedBy: "\n---\n")
    #expect(parts.count == 4, "\(r.output)")
    let plain = try s.cassette("plain")
    #expect(parts[0] == plain.body.serialized())
    // The stream is its recorded events, in order, framed as recorded.
    let streamed = try s.cassette("streamed")
    let events = (streamed.events ?? []).map { "data: \($0.data)\n\n" }.joined()
    #expect(parts[1] + "\n" == events || parts[1] == events, "\(parts[1])")
    #expect(parts[2] == "Echo: Count to three")
    #expect(
      parts[3].contains(
        "no cassette matches this request; the closest is expectations/cassettes/s/plain.yaml, which differs at body.messages[0].content: recorded \"Say hello\", now \"Say goodbye\""
      ), "\(parts[3])")
    #expect(s.log.value.contains("POST /v1/chat/completions 200 match expectations/cassettes/s/plain.yaml"))
  }

  /// The agent of `ToolLoopTests`, streaming when asked: a tool call first, then an answer with the result.
  static let streamingAgent: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { request, n in
    guard request.json?["stream"] == .bool(true) else { return ToolLoopTests.agent(request, n) }
    let last = request.json?["messages"]?.arrayValue?.last
    if last?["role"] == "tool" {
      return .sse(FakeOpenAI.stream(["Order A1: ", last?["content"]?.stringValue ?? ""]))
    }
    let call: JSON = [
      "index": 0, "id": "call_1", "type": "function",
      "function": ["name": "get_order", "arguments": #"{"id":"A1"}"#],
    ]
    return .sse([
      FakeOpenAI.chunk(["role": "assistant", "content": .null, "tool_calls": [call]]),
      FakeOpenAI.chunk([:], finish: "tool_calls"), "data: [DONE]\n\n",
    ])
  }

  @Test(.enabled(if: openaiSDKAvailable, "python3 with the openai package is not installed"))
  func anAppRunningItsOwnAgentLoopIsAnsweredEveryStep() async throws {
    let suite =
      ToolLoopTests.tools + "\nmocks: {get_order: {status: shipped}}\n" + """
        tests:
          - {name: loop, prompt: where is A1?}
          - {name: streamed loop, prompt: where is A1?, params: {stream: true}}
        """
    let s = try await Served(suite: suite, handler: Self.streamingAgent)
    defer { s.server.stop() }
    #expect(
      s.log.value.contains("serving 2 cassettes (and 2 later steps) from expectations/cassettes"), "\(s.log.value)")
    // The app's own loop, as an OpenAI SDK user writes it: call, run the tools, send their results back.
    let script = """
      import json, sys, openai
      client = openai.OpenAI(base_url=sys.argv[1], api_key="unused", max_retries=0)
      tools = json.loads(sys.argv[2])
      def step(messages, stream):
          if not stream:
              m = client.chat.completions.create(model="test-model", messages=messages, tools=tools).choices[0].message
              return m.content or "", [{"id": t.id, "type": "function", "function": {"name": t.function.name, "arguments": t.function.arguments}} for t in m.tool_calls or []]
          content, calls = "", {}
          for chunk in client.chat.completions.create(model="test-model", messages=messages, tools=tools, stream=True):
              if not chunk.choices:
                  continue
              delta = chunk.choices[0].delta
              content += delta.content or ""
              for t in delta.tool_calls or []:
                  c = calls.setdefault(t.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
                  c["id"] = t.id or c["id"]
                  c["function"]["name"] += t.function.name or ""
                  c["function"]["arguments"] += t.function.arguments or ""
          return content, [calls[k] for k in sorted(calls)]
      def agent(stream):
          messages = [{"role": "user", "content": "where is A1?"}]
          for _ in range(5):
              content, calls = step(messages, stream)
              if not calls:
                  return content
              messages.append({"role": "assistant", "content": content, "tool_calls": calls})
              for c in calls:
                  messages.append({"role": "tool", "tool_call_id": c["id"], "content": json.dumps({"status": "shipped"}, separators=(",", ":"))})
          return "too many steps"
      print(agent(False))
      print(agent(True))
      """
    let tools = try #require(s.cassette("loop").requestBody["tools"])
    let r = try await Shell.run("python3", ["-c", script, s.baseURL, tools.serialized()])
    #expect(
      r.output == "Order A1: {\"status\":\"shipped\"}\nOrder A1: {\"status\":\"shipped\"}\n",
      "\(r.output)\n\(s.log.value)")
    // Each request's log line without its time.
    let served = s.log.value.split(separator: "\n").dropFirst().map {
      $0.split(separator: " ").dropLast(2).joined(separator: " ")
    }
    #expect(
      served == [
        "POST /v1/chat/completions 200 match expectations/cassettes/s/loop.yaml",
        "POST /v1/chat/completions 200 match expectations/cassettes/s/loop.yaml step 3",
        "POST /v1/chat/completions 200 match expectations/cassettes/s/streamed-loop.yaml",
        "POST /v1/chat/completions 200 match expectations/cassettes/s/streamed-loop.yaml step 3",
      ], "\(s.log.value)")
  }

  @Test func curlGetsTheSameBytesAndMalformedOrOversizeRequestsAreRefused() async throws {
    let s = try await Served()
    defer { s.server.stop() }
    let transport = try CurlTransport()
    let plain = try s.cassette("plain")
    let response = try await transport.send(
      HTTPRequest(
        url: s.baseURL + "/chat/completions", headers: [("Content-Type", "application/json")],
        body: Array(plain.requestBody.serialized().utf8), timeout: 10))
    #expect(response.status == 200)
    #expect(response.body == Array(plain.body.serialized().utf8))
    let bad = try await transport.send(
      HTTPRequest(url: s.baseURL + "/chat/completions", body: Array("{nope".utf8), timeout: 10))
    #expect(bad.status == 400)
    #expect(String(decoding: bad.body, as: UTF8.self).contains("the body is not JSON"))
    let big = try await transport.send(
      HTTPRequest(url: s.baseURL + "/chat/completions", body: [UInt8](repeating: 32, count: 70 * 1024), timeout: 10))
    #expect(big.status == 413)
    let traversal = try await transport.send(HTTPRequest(url: s.baseURL + "/../../etc/passwd", body: [1], timeout: 10))
    #expect(traversal.status == 404)
    let models = try await transport.send(HTTPRequest(method: "GET", url: s.baseURL + "/models", body: [], timeout: 10))
    #expect(String(decoding: models.body, as: UTF8.self).contains("\"id\":\"test-model\""))
  }

  @Test func fiftyConcurrentClientsGetTheirOwnAnswers() async throws {
    let s = try await Served()
    defer { s.server.stop() }
    let transport = try CurlTransport()
    let bodies = try [s.cassette("plain"), s.cassette("streamed")]
    let ok = await withTaskGroup(of: Bool.self) { group in
      for i in 0..<50 {
        let c = bodies[i % 2]
        group.addTask {
          guard
            let r = try? await transport.send(
              HTTPRequest(
                url: s.baseURL + "/chat/completions", body: Array(c.requestBody.serialized().utf8), timeout: 20))
          else { return false }
          return r.status == 200
            && String(decoding: r.body, as: UTF8.self).contains(c.isStream ? "Count to three" : "Say hello")
        }
      }
      var all = true
      for await r in group { all = all && r }
      return all
    }
    #expect(ok)
  }

  @Test func recordThroughRecordsOnceThenReplaysWithTheProviderDown() async throws {
    let s = try await Served(mode: .auto, capture: "prompts/captured.yaml", record: false)
    let transport = try CurlTransport()
    let body = Array(#"{"model": "test-model", "messages": [{"role": "user", "content": "new question"}]}"#.utf8)
    let first = try await transport.send(HTTPRequest(url: s.baseURL + "/chat/completions", body: body, timeout: 10))
    #expect(first.status == 200)
    #expect(String(decoding: first.body, as: UTF8.self).contains("Echo: new question"))
    #expect(s.project.server.requests.count == 1)
    #expect(s.log.value.contains("recorded expectations/cassettes/served/"))
    let served = try FileManager.default.contentsOfDirectory(
      atPath: s.project.dir.url.appendingPathComponent("expectations/cassettes/served").path)
    #expect(served.count == 1)
    #expect(
      !(try s.project.dir.read("expectations/cassettes/served/\(served[0])")).contains("sk-test-0123456789abcdef"))
    // The draft suite case loads.
    let draft = try s.project.dir.read("prompts/captured.yaml")
    #expect(draft.contains("golden: true"))
    #expect(
      loadSuite(
        draft + "",
        config: {
          var c = Config()
          c.providers = [Provider(name: "p", baseURL: "http://127.0.0.1:9/v1", apiKeyEnv: nil, model: "m")]
          c.defaultProvider = "p"
          return c
        }()
      ).errors == [])
    // The provider goes away: the same request replays.
    s.project.server.stop()
    let again = try await transport.send(HTTPRequest(url: s.baseURL + "/chat/completions", body: body, timeout: 10))
    #expect(again.status == 200)
    #expect(again.body == first.body)
    s.server.stop()
  }

  @Test func theEmbeddingsThatSimilarRecordedAreServed() async throws {
    var judge = JudgeServer()
    judge.vectors = ["Echo: hello": [1, 0, 0.5], "Hello to you": [0.25, 1, 0]]
    let suite = """
      tests:
        - {name: close, prompt: hello, assert: [{similar: Hello to you}]}
      """
    let s = try await Served(suite: suite, handler: judge.handler)
    defer { s.server.stop() }
    s.project.server.stop()
    #expect(s.log.value.contains("serving 1 cassette (and 2 judge calls)"), "\(s.log.value)")
    let transport = try CurlTransport()
    func post(_ body: String) async throws -> (Int, JSON?) {
      let r = try await transport.send(
        HTTPRequest(url: s.baseURL + "/embeddings", body: Array(body.utf8), timeout: 10))
      return (r.status, try? JSON.parse(bytes: r.body))
    }
    var (status, answer) = try await post(#"{"model": "test-model", "input": "Echo: hello"}"#)
    #expect(status == 200)
    #expect(answer?["data"]?.arrayValue?.first?["embedding"] == [1, 0, 0.5])
    // A list is answered text by text; base64 is little-endian float32 (what OpenAI's SDKs ask for).
    (status, answer) = try await post(
      #"{"model": "test-model", "input": ["Hello to you", "Echo: hello"], "encoding_format": "base64"}"#)
    #expect(status == 200)
    let encoded = answer?["data"]?.arrayValue?.last?["embedding"]?.stringValue ?? ""
    let floats = (Data(base64Encoded: encoded) ?? Data()).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(floats == [1, 0, 0.5])
    #expect(answer?["data"]?.arrayValue?.last?["index"] == 1)
    (status, answer) = try await post(#"{"model": "test-model", "input": "Echo: goodbye"}"#)
    #expect(status == 404)
    #expect(
      answer?["error"]?["message"]?.stringValue?.contains(
        #"which differs at body.input: recorded "Echo: hello", now "Echo: goodbye""#) == true,
      "\(String(describing: answer))")
    if openaiSDKAvailable {
      let script = """
        import sys, openai
        client = openai.OpenAI(base_url=sys.argv[1], api_key="unused", max_retries=0)
        r = client.embeddings.create(model="test-model", input=["Echo: hello", "Hello to you"])
        print([round(x, 3) for d in r.data for x in d.embedding])
        """
      let r = try await Shell.run("python3", ["-c", script, s.baseURL])
      #expect(r.output == "[1.0, 0.0, 0.5, 0.25, 1.0, 0.0]\n", "\(r.output)")
    }
  }

  @Test func recordThroughPassesAStreamOnAsItArrives() async throws {
    // The provider sends the start of its answer, then keeps the rest for 3 s.
    let events = FakeOpenAI.stream(["Echo: ", "slow stream"])
    let handler: @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Reply = { _, _ in
      .chunks(
        status: 200, headers: [("Content-Type", "text/event-stream")],
        pieces: [(0, events[0] + events[1])] + [(3, events[2...].joined())])
    }
    let s = try await Served(mode: .auto, record: false, handler: handler)
    defer { s.server.stop() }
    let start = ContinuousClock().now
    let firstPiece = Mutex<Duration?>(nil)
    var request = HTTPRequest(
      url: s.baseURL + "/chat/completions",
      body: Array(#"{"model": "test-model", "messages": [{"role": "user", "content": "slow"}], "stream": true}"#.utf8),
      timeout: 20)
    request.onData = { _ in firstPiece.withLock { $0 = $0 ?? (ContinuousClock().now - start) } }
    let response = try await CurlTransport().send(request)
    let total = ContinuousClock().now - start
    #expect(response.status == 200)
    #expect(String(decoding: response.body, as: UTF8.self) == events.joined())
    // The client had the first events while the provider was still holding the rest back.
    let first = try #require(firstPiece.withLock { $0 })
    #expect(total - first > .seconds(2), "first piece at \(first), whole answer at \(total)")
    // And it was recorded: the provider gone, it replays.
    s.project.server.stop()
    let again = try await CurlTransport().send(
      HTTPRequest(url: request.url, body: request.body, timeout: 10))
    #expect(again.status == 200)
    #expect(again.body == response.body)
    #expect(s.log.value.contains("(streamed as it arrived)"), "\(s.log.value)")
  }

  @Test func recordingIsRefusedInCI() async throws {
    let p = try Project(suites: ["s": Served.suite], handler: echo)
    let log = Served.Capture()
    let ctx = CommandContext(
      environment: ["CI": "1"], directory: p.dir.url.path, stdoutIsTTY: false, out: { log.append($0) },
      err: { log.append($0) })
    var o = ServeCommandCore.Options()
    o.port = 0
    o.mode = .auto
    #expect(ServeCommandCore.start(o, ctx) == nil)
    #expect(log.value.contains("serve --mode auto is refused when CI is set"))
  }
}
