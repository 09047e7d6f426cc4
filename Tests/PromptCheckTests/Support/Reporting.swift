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

final class Sink: Sendable {
  let text = Mutex("")
  func write(_ s: String) { text.withLock { $0 += s } }
  var value: String { text.withLock { $0 } }
}

/// Ends a run as the runner does: each case reported in order, then the summary.
func finishRun(_ r: TerminalReporter, _ cases: [CaseResult], durationMS: Int, mode: RunMode) {
  let reported = cases.map(ReportCase.init)
  for c in reported { r.handle(.caseReported(c)) }
  r.handle(
    .runFinished(
      RunSummary(startedAt: Date(), durationMS: durationMS, mode: mode, totals: ReportTotals(reported))))
}
