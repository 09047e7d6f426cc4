import Foundation
import LoopbackServer
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

@Suite struct NumberTextTests {
  @Test func numbersReadAsWritten() {
    #expect(NumberText.format(0.05) == "0.05")
    #expect(NumberText.format(1.05) == "1.05")
    #expect(NumberText.format(10.0) == "10")
    #expect(NumberText.format(0.5) == "0.5")
    #expect(NumberText.format(120) == "120")
    #expect(NumberText.money(0.05) == "0.05")
    #expect(NumberText.money(2) == "2.0")
  }

  @Test func messagesUseIt() {
    #expect(TransportError.timeout(seconds: 0.05).description == "timed out after 0.05 s")
    #expect(TransportError.timeout(seconds: 1.05).description == "timed out after 1.05 s")
    #expect(TransportError.timeout(seconds: 30).description == "timed out after 30 s")
  }
}
