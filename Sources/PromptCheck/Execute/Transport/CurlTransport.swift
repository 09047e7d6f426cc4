import Foundation
import Synchronization
internal import CLibCurl

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
public final class CurlTransport: HTTPTransport {
  typealias Completion = CheckedContinuation<Result<HTTPResponse, TransportError>, Never>

  struct Pending: Sendable {
    var id: UInt64
    var request: HTTPRequest
    var continuation: Completion
  }

  struct Queue: ~Copyable {
    var pending: [Pending] = []
    var cancelled: Set<UInt64> = []
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
      queue.withLock { $0.pending.append(p) }
      multi.wakeup()
    }

    func cancel(_ id: UInt64) {
      queue.withLock { _ = $0.cancelled.insert(id) }
      multi.wakeup()
    }
  }

  private let shared: Shared

  public enum InitError: Error { case curlUnavailable }

  public init() throws(InitError) {
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

  public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
    let shared = self.shared
    let id = shared.queue.withLock { q in
      defer { q.nextID += 1 }
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

  init(shared: CurlTransport.Shared) { self.shared = shared }

  func run() {
    let multi = shared.multi.pointer
    while true {
      let (incoming, cancelled, shutdown) = shared.queue.withLock { q in
        defer { q.pending.removeAll() }
        return (q.pending, q.cancelled, q.shutdown)
      }
      for p in incoming { start(p, multi: multi) }
      var matched: [UInt64] = []
      for id in cancelled {
        if let t = transfers.removeValue(forKey: id) {
          curl_multi_remove_handle(multi, t.handle.handle)
          idsByHandle[t.handle.handle] = nil
          t.continuation.resume(returning: .failure(.cancelled))
          matched.append(id)
        }
      }
      if !matched.isEmpty { shared.queue.withLock { q in matched.forEach { q.cancelled.remove($0) } } }
      if shutdown {
        for (_, t) in transfers {
          curl_multi_remove_handle(multi, t.handle.handle)
          t.continuation.resume(returning: .failure(.cancelled))
        }
        transfers.removeAll()
        idsByHandle.removeAll()
        shared.stopped.signal()
        return
      }
      var running: Int32 = 0
      curl_multi_perform(multi, &running)
      var left: Int32 = 0
      while let message = curl_multi_info_read(multi, &left) {
        guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
          let id = idsByHandle.removeValue(forKey: easy), let t = transfers.removeValue(forKey: id)
        else { continue }
        let code = message.pointee.data.result
        curl_multi_remove_handle(multi, easy)
        t.continuation.resume(returning: t.handle.outcome(code))
        shared.queue.withLock { _ = $0.cancelled.remove(id) }
      }
      var fds: Int32 = 0
      curl_multi_poll(multi, nil, 0, 1000, &fds)
    }
  }

  func start(_ p: CurlTransport.Pending, multi: UnsafeMutableRawPointer) {
    guard let handle = EasyHandle(p.request, id: p.id) else {
      p.continuation.resume(returning: .failure(.other("curl could not create a transfer")))
      return
    }
    let code = curl_multi_add_handle(multi, handle.handle)
    guard code == CURLM_OK else {
      p.continuation.resume(returning: .failure(.other(String(cString: curl_multi_strerror(code)))))
      return
    }
    transfers[p.id] = (handle, p.continuation)
    idsByHandle[handle.handle] = p.id
  }
}
