/// A looped case's loop (README "Agents: tool loops"): a test with `mocks:` or `loop:` sends
/// the conversation, answers every tool call the model makes, and sends again, until an answer
/// calls no tool (the final answer) or `max_steps` model calls were made.
package struct ToolLoop: Sendable {
  /// The most model calls (`loop.max_steps`, default 10); reaching it fails the case.
  package var maxSteps: Int
  /// `loop.first_step`: params that override the test's on the first model call only.
  package var firstStep: JSONObject?
  /// `mocks:`, merged by tool name (a test's over its defaults' over its suite's), in order.
  package var mocks: [(name: String, mock: ToolMock)]
  /// `mcp:`: the MCP servers whose tools are offered beside `params.tools` (a mock of the same
  /// name wins over a server's tool).
  package var mcp: [MCPUse] = []

  package static let defaultMaxSteps = 10
  package static let maxMaxSteps = 100

  package init(maxSteps: Int = defaultMaxSteps, firstStep: JSONObject? = nil, mocks: [(name: String, mock: ToolMock)]) {
    self.maxSteps = maxSteps
    self.firstStep = firstStep
    self.mocks = mocks
  }

  package func mock(named name: String) -> ToolMock? { mocks.first { $0.name == name }?.mock }
}

/// How a mocked tool answers.
package enum ToolMock: Sendable {
  /// The same result for every call (a string, or a YAML value sent as its JSON text).
  case result(String)
  /// The first case whose checks all hold on the call's arguments answers; a case without
  /// checks matches any call.
  case cases([Case])
  /// A command: `{name, arguments, step, case, vars}` as JSON on its standard input, its
  /// standard output the result.
  case exec(ExecCommand)

  package struct Case: Sendable {
    package var when: [JSONPathCheck]
    package var result: String
    package init(when: [JSONPathCheck], result: String) {
      self.when = when
      self.result = result
    }
  }

  /// `mock`, `exec`: where a step's result came from (README "Steps").
  package var source: String {
    if case .exec = self { "exec" } else { "mock" }
  }
}

/// Why a tool call got no result: no mock for the tool, no case matching, arguments that are not
/// JSON, an exec tool that failed or is not recorded. It errors the case (exit 3), naming the step.
package struct ToolError: Error, Sendable, Equatable, ExpressibleByStringInterpolation {
  package var message: String
  package init(_ message: String) { self.message = message }
  package init(stringLiteral value: String) { message = value }
  package init(stringInterpolation: DefaultStringInterpolation) {
    message = String(stringInterpolation: stringInterpolation)
  }
}
