internal import CLibCurl
import PromptCheckCore

/// `curl_global_init`, once per process, before the first handle.
package enum CurlGlobal {
  /// The libcurl in use (`7.88.1`).
  package static var version: String {
    String(cString: pc_curl_version_number())
  }

  static let initialized: Bool = {
    curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
  }()
}

/// One transfer: the single owner of a curl easy handle and of everything curl
/// points into while it runs (header list, request body, error buffer). Used
/// only on the transfer thread; freed in `deinit`.
final class EasyHandle {
  let handle: UnsafeMutableRawPointer
  let id: UInt64
  private var headerList: UnsafeMutablePointer<curl_slist>?
  private let body: UnsafeMutableBufferPointer<UInt8>
  private let errorBuffer: UnsafeMutablePointer<CChar>
  let timeout: Double
  let maxResponseBytes: Int
  let stallTimeout: Double?
  /// Set by the write callback when the answer passed `maxResponseBytes` (it then ends the transfer).
  private(set) var overLimit = false
  /// Set by the progress callback when no byte came for `stallTimeout` (it then ends the transfer).
  private(set) var stalledOut = false
  /// When the last byte (header or body) arrived, or the transfer began.
  private var lastByte = ContinuousClock.now

  private(set) var responseBody: [UInt8] = []
  private(set) var responseHeaders: [(name: String, value: String)] = []
  private(set) var statusLine = ""
  /// The status of the response being received (from its status line).
  private var status = 0
  private let onData: (@Sendable (HTTPRequest.BodyPiece) -> Void)?

  /// Creates and configures the handle. Every option's result is checked: a failed
  /// setopt is an error of this request, never ignored.
  init(_ request: HTTPRequest, id: UInt64) throws(TransportError) {
    _ = CurlGlobal.initialized
    guard let h = curl_easy_init() else { throw .other("curl could not create a transfer") }
    handle = h
    self.id = id
    timeout = request.timeout
    maxResponseBytes = request.maxResponseBytes
    stallTimeout = request.stallTimeout
    onData = request.onData
    body = .allocate(capacity: max(request.body.count, 1))
    _ = body.initialize(from: request.body)
    errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    for (name, value) in request.headers {
      guard let list = curl_slist_append(headerList, "\(name): \(value)") else {
        throw .other("curl could not add a header")
      }
      headerList = list
    }
    // No "Expect: 100-continue" round trip for large bodies.
    guard let list = curl_slist_append(headerList, "Expect:") else { throw .other("curl could not add a header") }
    headerList = list

    func check(_ code: CURLcode, _ option: String) throws(TransportError) {
      guard code == CURLE_OK else {
        throw .other("curl rejected the option \(option): \(String(cString: curl_easy_strerror(code)))")
      }
    }
    let shownURL =
      request.url.count > 100 ? request.url.prefix(100) + "… (\(request.url.utf8.count) bytes)" : request.url
    try check(pc_easy_setopt_string(h, CURLOPT_URL, request.url), "URL (\(shownURL))")
    try check(pc_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
    try check(pc_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
    try check(pc_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)), "TIMEOUT_MS")
    try check(
      pc_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 30) * 1000)), "CONNECTTIMEOUT_MS")
    // HTTP/2 where TLS offers it, HTTP/1.1 otherwise; gzip/deflate/br as curl supports.
    try check(pc_easy_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)), "HTTP_VERSION")
    try check(pc_easy_setopt_string(h, CURLOPT_ACCEPT_ENCODING, ""), "ACCEPT_ENCODING")
    try check(pc_easy_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
    // A declared Content-Length over the limit ends the transfer before its body; the write
    // callback counts the decoded bytes (a small gzip body can inflate to far more).
    try check(
      pc_easy_setopt_off(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)), "MAXFILESIZE_LARGE")
    if request.method == "POST" {
      try check(pc_easy_setopt_long(h, CURLOPT_POST, 1), "POST")
      try check(pc_easy_setopt_ptr(h, CURLOPT_POSTFIELDS, body.baseAddress), "POSTFIELDS")
      try check(
        pc_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)), "POSTFIELDSIZE_LARGE")
    } else if request.method != "GET" {
      try check(pc_easy_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method), "CUSTOMREQUEST")
    }
    try check(pc_easy_setopt_slist(h, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")

    // Callbacks get this object back from the user-data pointer. The transfer
    // thread keeps the object alive for as long as curl may call them.
    let me = Unmanaged.passUnretained(self).toOpaque()
    let write = pc_easy_setopt_data_callback(h, CURLOPT_WRITEFUNCTION) { data, size, count, user in
      guard let data, let user else { return 0 }
      let handle = Unmanaged<EasyHandle>.fromOpaque(user).takeUnretainedValue()
      let n = size * count
      handle.lastByte = .now
      if handle.responseBody.count + n > handle.maxResponseBytes {
        handle.overLimit = true
        return 0  // curl ends the transfer with CURLE_WRITE_ERROR
      }
      data.withMemoryRebound(to: UInt8.self, capacity: n) {
        let piece = UnsafeBufferPointer(start: $0, count: n)
        handle.responseBody.append(contentsOf: piece)
        handle.onData?(HTTPRequest.BodyPiece(transfer: handle.id, status: handle.status, bytes: Array(piece)))
      }
      return n
    }
    try check(write, "WRITEFUNCTION")
    try check(pc_easy_setopt_ptr(h, CURLOPT_WRITEDATA, me), "WRITEDATA")
    let header = pc_easy_setopt_data_callback(h, CURLOPT_HEADERFUNCTION) { data, size, count, user in
      guard let data, let user else { return 0 }
      let handle = Unmanaged<EasyHandle>.fromOpaque(user).takeUnretainedValue()
      let n = size * count
      let line = data.withMemoryRebound(to: UInt8.self, capacity: n) {
        String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
      }
      handle.receivedHeaderLine(line)
      return n
    }
    try check(header, "HEADERFUNCTION")
    try check(pc_easy_setopt_ptr(h, CURLOPT_HEADERDATA, me), "HEADERDATA")
    if request.stallTimeout != nil {
      // curl's own low-speed check averages over a window of several seconds; the progress
      // callback (called about once a second, and on every received piece) sees the quiet itself.
      let progress = pc_easy_setopt_xferinfo_callback(h) { user, _, _, _, _ in
        guard let user else { return 0 }
        let handle = Unmanaged<EasyHandle>.fromOpaque(user).takeUnretainedValue()
        return handle.quietTooLong() ? 1 : 0  // non-zero: CURLE_ABORTED_BY_CALLBACK
      }
      try check(progress, "XFERINFOFUNCTION")
      try check(pc_easy_setopt_ptr(h, CURLOPT_XFERINFODATA, me), "XFERINFODATA")
      try check(pc_easy_setopt_long(h, CURLOPT_NOPROGRESS, 0), "NOPROGRESS")
    }
  }

  deinit {
    curl_easy_cleanup(handle)
    curl_slist_free_all(headerList)
    body.deallocate()
    errorBuffer.deallocate()
  }

  /// Whether the peer sent nothing for longer than `stallTimeout` (then remembered as `stalledOut`).
  private func quietTooLong() -> Bool {
    guard let stall = stallTimeout else { return false }
    if ContinuousClock.now - lastByte > .milliseconds(Int(stall * 1000)) { stalledOut = true }
    return stalledOut
  }

  private func receivedHeaderLine(_ raw: String) {
    lastByte = .now
    let line = raw.trimmingCharacters(in: "\r\n")
    if line.hasPrefix("HTTP/") {
      // A new response (after 100 Continue or a redirect): start over.
      statusLine = line
      responseHeaders.removeAll()
      let parts = line.split(separator: " ")
      status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    } else if let colon = line.firstIndex(of: ":") {
      let name = line[..<colon].lowercased()
      let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
      responseHeaders.append((name, value))
    }
  }

  /// Builds the outcome once curl reports the transfer done with `code`.
  func outcome(_ code: CURLcode) -> Result<HTTPResponse, TransportError> {
    guard code == CURLE_OK else {
      let detail = String(cString: errorBuffer)
      let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
      if overLimit || code == CURLE_FILESIZE_EXCEEDED { return .failure(.tooLarge(limit: maxResponseBytes)) }
      if stalledOut, let stall = stallTimeout { return .failure(.stalled(seconds: stall)) }
      switch code {
      case CURLE_OPERATION_TIMEDOUT:
        return .failure(.timeout(seconds: timeout))
      case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_RECV_ERROR,
        CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
        CURLE_SSL_CONNECT_ERROR:
        return .failure(.connection(message))
      default:
        return .failure(.other(message))
      }
    }
    var status = 0
    var microseconds: curl_off_t = 0
    var version = 0
    for (code, what) in [
      (pc_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "RESPONSE_CODE"),
      (pc_easy_getinfo_off(handle, CURLINFO_TOTAL_TIME_T, &microseconds), "TOTAL_TIME_T"),
      (pc_easy_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version), "HTTP_VERSION"),
    ] where code != CURLE_OK {
      return .failure(.other("curl could not report \(what): \(String(cString: curl_easy_strerror(code)))"))
    }
    let versionText: String
    switch Int32(version) {
    case Int32(CURL_HTTP_VERSION_2_0): versionText = "2"
    case Int32(CURL_HTTP_VERSION_3): versionText = "3"
    case Int32(CURL_HTTP_VERSION_1_0): versionText = "1.0"
    default: versionText = "1.1"
    }
    return .success(
      HTTPResponse(
        status: status, headers: responseHeaders, body: responseBody, duration: Double(microseconds) / 1e6,
        httpVersion: versionText))
  }
}
