internal import CLibCurl
import Foundation
import PromptCheckCore
import Synchronization

/// The owner of one curl multi handle, freed in `deinit`.
///
/// `@unchecked Sendable`: after creation only the transfer thread calls curl on
/// this handle, except `curl_multi_wakeup`, which libcurl documents as safe to
/// call from any thread.
final class MultiHandle: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer

  init?() {
    _ = CurlGlobal.initialized
    guard let m = curl_multi_init() else { return nil }
    pointer = m
  }

  func wakeup() { curl_multi_wakeup(pointer) }

  deinit { curl_multi_cleanup(pointer) }
}

/// HTTP over libcurl: one multi handle driven by one dedicated thread (a
/// `curl_multi_poll` loop over every transfer), so Swift's cooperative pool
/// never blocks. Callers wait on continuations; requests and cancellations
/// reach the thread through a locked queue plus `curl_multi_wakeup`.
/// Connections are reused across requests through the multi handle's cache.
package final class CurlTransport: HTTPTransport {
  typealias Completion = CheckedContinuation<Result<HTTPResponse, TransportError>, Never>

  struct Pending: Sendable {
    var id: UInt64
    var request: HTTPRequest
    var continuation: Completion
  }

  /// Where a request is between `send` and its result; absent once finished.
  enum Stage { case allocated, cancelledEarly, queued }

  struct Queue: ~Copyable {
    var pending: [Pending] = []
    /// Queued or in-flight requests whose task was cancelled.
    var cancelled: Set<UInt64> = []
    var stages: [UInt64: Stage] = [:]
    var shutdown = false
    var nextID: UInt64 = 1
  }

  /// What the callers and the transfer thread share.
  final class Shared: Sendable {
    let multi: MultiHandle
    let queue = Mutex(Queue())
    let stopped = DispatchSemaphore(value: 0)

    init(multi: MultiHandle) { self.multi = multi }

    func enqueue(_ p: Pending) {
      // A cancellation can arrive before its request (a task cancelled before it sent).
      let alreadyCancelled = queue.withLock { q in
        if q.stages[p.id] == .cancelledEarly {
          q.stages[p.id] = nil
          return true
        }
        q.stages[p.id] = .queued
        q.pending.append(p)
        return false
      }
      if alreadyCancelled {
        p.continuation.resume(returning: .failure(.cancelled))
      } else {
        multi.wakeup()
      }
    }

    /// A cancellation after the result was handed over finds no stage and leaves nothing behind.
    func cancel(_ id: UInt64) {
      let wake = queue.withLock { q in
        switch q.stages[id] {
        case .allocated?:
          q.stages[id] = .cancelledEarly
          return false
        case .queued?:
          q.cancelled.insert(id)
          return true
        case .cancelledEarly?, nil:
          return false
        }
      }
      if wake { multi.wakeup() }
    }

    func finished(_ id: UInt64) {
      queue.withLock { q in
        q.stages[id] = nil
        q.cancelled.remove(id)
      }
    }

    /// Requests known to the queue (for tests: nothing stays behind).
    var outstanding: Int { queue.withLock { $0.stages.count + $0.cancelled.count } }
  }

  private let shared: Shared

  package enum InitError: Error { case curlUnavailable }

  package init() throws(InitError) {
    guard CurlGlobal.initialized, let multi = MultiHandle() else { throw .curlUnavailable }
    shared = Shared(multi: multi)
    let s = shared
    let thread = Thread { TransferLoop(shared: s).run() }
    thread.name = "promptcheck.curl"
    thread.start()
  }

  deinit {
    shared.queue.withLock { $0.shutdown = true }
    shared.multi.wakeup()
    shared.stopped.wait()
  }

  /// Requests the transport still tracks (none once every call has returned, cancelled or not).
  var outstandingRequests: Int { shared.outstanding }

  package func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
    let shared = self.shared
    let id = shared.queue.withLock { q in
      defer { q.nextID += 1 }
      q.stages[q.nextID] = .allocated
      return q.nextID
    }
    let result = await withTaskCancellationHandler {
      await withCheckedContinuation { (c: Completion) in
        shared.enqueue(Pending(id: id, request: request, continuation: c))
      }
    } onCancel: {
      shared.cancel(id)
    }
    return try result.get()
  }
}

/// State that only the transfer thread touches.
private final class TransferLoop {
  let shared: CurlTransport.Shared
  var transfers: [UInt64: (handle: EasyHandle, continuation: CurlTransport.Completion)] = [:]
  var idsByHandle: [UnsafeMutableRawPointer: UInt64] = [:]
  /// Handles that curl would not detach: never freed while the multi handle may use them.
  var detached: [EasyHandle] = []

  init(shared: CurlTransport.Shared) { self.shared = shared }

  func run() {
    let multi = shared.multi.pointer
    while true {
      let (incoming, cancelled, shutdown) = shared.queue.withLock { q in
        defer {
          q.pending.removeAll()
          q.cancelled.removeAll()
        }
        return (q.pending, q.cancelled, q.shutdown)
      }
      for p in incoming { start(p, multi: multi) }
      for id in cancelled {
        if let t = transfers.removeValue(forKey: id) { finish(t, multi: multi, with: .failure(.cancelled)) }
      }
      if shutdown {
        for (_, t) in transfers { finish(t, multi: multi, with: .failure(.cancelled)) }
        transfers.removeAll()
        shared.stopped.signal()
        return
      }
      var running: Int32 = 0
      let performed = curl_multi_perform(multi, &running)
      if performed != CURLM_OK {
        failAll(multi: multi, "curl_multi_perform failed: \(String(cString: curl_multi_strerror(performed)))")
      }
      var left: Int32 = 0
      while let message = curl_multi_info_read(multi, &left) {
        guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
          let id = idsByHandle[easy], let t = transfers.removeValue(forKey: id)
        else { continue }
        finish(t, multi: multi, with: t.handle.outcome(message.pointee.data.result))
      }
      var fds: Int32 = 0
      let polled = curl_multi_poll(multi, nil, 0, 1000, &fds)
      if polled != CURLM_OK {
        // Fail what is in flight and pause, rather than spin on a poll that keeps failing.
        failAll(multi: multi, "curl_multi_poll failed: \(String(cString: curl_multi_strerror(polled)))")
        usleep(50_000)
      }
    }
  }

  /// Detaches a transfer from the multi handle and hands its result to the caller.
  func finish(
    _ t: (handle: EasyHandle, continuation: CurlTransport.Completion), multi: UnsafeMutableRawPointer,
    with result: Result<HTTPResponse, TransportError>
  ) {
    idsByHandle[t.handle.handle] = nil
    shared.finished(t.handle.id)
    let removed = curl_multi_remove_handle(multi, t.handle.handle)
    if removed != CURLM_OK {
      // The easy handle may still be referenced by the multi handle: keep it alive rather than free it under curl.
      detached.append(t.handle)
      if case .success = result {
        t.continuation.resume(
          returning: .failure(
            .other("curl_multi_remove_handle failed: \(String(cString: curl_multi_strerror(removed)))")))
        return
      }
    }
    t.continuation.resume(returning: result)
  }

  func failAll(multi: UnsafeMutableRawPointer, _ message: String) {
    for (_, t) in transfers { finish(t, multi: multi, with: .failure(.other(message))) }
    transfers.removeAll()
  }

  func start(_ p: CurlTransport.Pending, multi: UnsafeMutableRawPointer) {
    let handle: EasyHandle
    do {
      handle = try EasyHandle(p.request, id: p.id)
    } catch {
      shared.finished(p.id)
      p.continuation.resume(returning: .failure(error))
      return
    }
    let code = curl_multi_add_handle(multi, handle.handle)
    guard code == CURLM_OK else {
      shared.finished(p.id)
      p.continuation.resume(
        returning: .failure(.other("curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(code)))")))
      return
    }
    transfers[p.id] = (handle, p.continuation)
    idsByHandle[handle.handle] = p.id
  }
}
