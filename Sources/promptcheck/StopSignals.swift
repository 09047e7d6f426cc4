import Foundation

/// Waits for Ctrl-C, SIGTERM or SIGHUP, calling `stop` on the first (serve, view, watch: the
/// commands that run until stopped).
func untilStopped(_ stop: @escaping @Sendable () -> Void) async {
  for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, SIG_IGN) }
  let (stopped, continuation) = AsyncStream<Void>.makeStream()
  var sources: [any DispatchSourceSignal] = []
  for sig in [SIGINT, SIGTERM, SIGHUP] {
    let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
    source.setEventHandler {
      stop()
      continuation.finish()
    }
    source.resume()
    sources.append(source)
  }
  for await _ in stopped {}
  sources.forEach { $0.cancel() }
}
