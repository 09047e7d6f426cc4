import Foundation

/// What the process gives a command: environment, working folder, terminal and output.
public struct CommandContext: Sendable {
  public var environment: [String: String]
  public var directory: String
  public var stdoutIsTTY: Bool
  public var out: @Sendable (String) -> Void
  public var err: @Sendable (String) -> Void
  /// Standard input read to its end (`query -`), within `limit` bytes.
  public var readInput: @Sendable (_ limit: Int) -> Result<[UInt8], InputFile.Problem>

  public init(
    environment: [String: String], directory: String, stdoutIsTTY: Bool,
    out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
    readInput: @escaping @Sendable (_ limit: Int) -> Result<[UInt8], InputFile.Problem> = {
      InputFile.read("/dev/stdin", limit: $0)
    }
  ) {
    self.environment = environment
    self.directory = directory
    self.stdoutIsTTY = stdoutIsTTY
    self.out = out
    self.err = err
    self.readInput = readInput
  }

  public var isCI: Bool { !(environment["CI"] ?? "").isEmpty }

  public func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
  }
}
