import Foundation
import PromptCheck
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe
import Synchronization

/// `serve`: replayed requests per second with CLIENTS keep-alive clients for a 2 KB answer,
/// and the latency each request sees, against the same bytes from Python's http.server.
func benchServe(clients: Int, requestsPerClient: Int) throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pc-serve-bench-\(UUID().uuidString)")
  defer { try? FileManager.default.removeItem(at: dir) }
  let answer = String(repeating: "Refunds are accepted within 30 days of delivery when unused. ", count: 32)
  let request = #"{"model":"bench","messages":[{"role":"user","content":"refunds?"}]}"#
  var response = JSONObject()
  response["id"] = "chatcmpl-bench"
  response["object"] = "chat.completion"
  response["model"] = "bench"
  response["choices"] = [
    ["index": 0, "message": ["role": "assistant", "content": .string(answer)], "finish_reason": "stop"]
  ]
  let body = JSON.object(response).serialized()
  let cassette = """
    version: 1
    case: bench/refunds
    recorded_at: '2026-11-27T00:00:00Z'
    duration_ms: 1
    request:
      method: POST
      url: http://127.0.0.1:1/v1/chat/completions
      body: \(request)
    response:
      status: 200
      headers: {content-type: application/json}
      body: \(body)

    """
  try FileManager.default.createDirectory(
    at: dir.appendingPathComponent("expectations/cassettes/bench"), withIntermediateDirectories: true)
  try cassette.write(
    to: dir.appendingPathComponent("expectations/cassettes/bench/refunds.yaml"), atomically: true, encoding: .utf8)
  try body.write(to: dir.appendingPathComponent("answer.json"), atomically: true, encoding: .utf8)
  var o = ServeCommandCore.Options()
  o.port = 0
  let ctx = CommandContext(environment: [:], directory: dir.path, stdoutIsTTY: false, out: { _ in }, err: { _ in })
  guard let server = ServeCommandCore.start(o, ctx) else { fatalError("serve did not start") }
  let ours = load(
    port: server.port, path: "/v1/chat/completions", body: request, clients: clients, requests: requestsPerClient,
    expect: body.utf8.count)
  server.stop()

  // The baseline: the same bytes from a minimal Python http.server (threading, HTTP/1.1 keep-alive).
  let stub = """
    import http.server, os, sys
    body = open(sys.argv[1], "rb").read()
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a): pass
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(sys.argv[2] + ".part", "w") as f: f.write(str(s.server_address[1]))
    os.rename(sys.argv[2] + ".part", sys.argv[2])
    s.serve_forever()
    """
  let portFile = dir.appendingPathComponent("python.port").path
  guard let python = startQuietly(["python3", "-c", stub, dir.appendingPathComponent("answer.json").path, portFile])
  else {
    print("cannot start python3")
    exit(1)
  }
  defer {
    kill(python, SIGKILL)
    var status: Int32 = 0
    waitpid(python, &status, 0)
  }
  var port = 0
  for _ in 0..<1000 where port == 0 {
    port = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
    if port == 0 { usleep(10_000) }
  }
  guard port > 0 else {
    print("python's http.server did not start within 10 s")
    exit(1)
  }
  let baseline = load(
    port: port, path: "/", body: request, clients: clients, requests: requestsPerClient, expect: body.utf8.count)

  for (name, r) in [("promptcheck serve", ours), ("python http.server", baseline)] {
    print(
      String(
        format:
          "%-20@ %d clients x %d requests, %d-byte answer: %8.0f req/s, latency p50 %.2f ms, p99 %.2f ms, errors %d",
        name, clients, requestsPerClient, body.utf8.count, r.perSecond, r.p50, r.p99, r.errors))
  }
}

struct LoadResult {
  var perSecond: Double
  var p50: Double
  var p99: Double
  var errors: Int
}

/// CLIENTS threads, each on one keep-alive connection, sending REQUESTS requests and reading each answer.
func load(port: Int, path: String, body: String, clients: Int, requests: Int, expect: Int) -> LoadResult {
  let latencies = Mutex<[Double]>([])
  let errors = Mutex(0)
  let group = DispatchGroup()
  let clock = ContinuousClock()
  let start = clock.now
  for _ in 0..<clients {
    group.enter()
    Thread {
      defer { group.leave() }
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var addr = sockaddr_in()
      addr.sin_family = sa_family_t(AF_INET)
      addr.sin_port = in_port_t(UInt16(port).bigEndian)
      addr.sin_addr.s_addr = inet_addr("127.0.0.1")
      let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      guard ok == 0 else {
        errors.withLock { $0 += requests }
        return
      }
      var one: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      defer { close(fd) }
      let message = Array(
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
          .utf8)
      var mine: [Double] = []
      var buffer = [UInt8](repeating: 0, count: 64 * 1024)
      for _ in 0..<requests {
        let t0 = clock.now
        _ = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Read the head, then the body by its Content-Length.
        var got: [UInt8] = []
        var need = -1
        while need < 0 || got.count < need {
          let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
          if n <= 0 { break }
          got.append(contentsOf: buffer[0..<n])
          if need < 0, let end = got.firstRange(of: [13, 10, 13, 10]) {
            let head = String(decoding: got[..<end.lowerBound], as: UTF8.self).lowercased()
            let length =
              head.components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }
              .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            need = end.upperBound + length
          }
        }
        if need < 0 || got.count < need || need - (got.firstRange(of: [13, 10, 13, 10])?.upperBound ?? 0) != expect {
          errors.withLock { $0 += 1 }
        }
        let d = clock.now - t0
        mine.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
      }
      latencies.withLock { $0 += mine }
    }.start()
  }
  group.wait()
  let elapsed = clock.now - start
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  let sorted = latencies.withLock { $0 }.sorted()
  func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
  return LoadResult(
    perSecond: Double(sorted.count) / seconds, p50: pct(0.5), p99: pct(0.99), errors: errors.withLock { $0 })
}
