import Foundation
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

/// Runs `body` on a thread of its own, off the cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { done in Thread { done.resume(returning: body()) }.start() }
}

/// Polls `condition` every 20 ms for up to `seconds` (sleeping, not holding a thread of the pool).
func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return condition()
}
