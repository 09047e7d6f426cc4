import Foundation

/// What the process gives a command: environment, working folder, terminal and output.
public struct CommandContext: Sendable {
  public var environment: [String: String]
  public var directory: String
  public var stdoutIsTTY: Bool
  public var out: @Sendable (String) -> Void
  public var err: @Sendable (String) -> Void

  public init(
    environment: [String: String], directory: String, stdoutIsTTY: Bool,
    out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void
  ) {
    self.environment = environment
    self.directory = directory
    self.stdoutIsTTY = stdoutIsTTY
    self.out = out
    self.err = err
  }

  public var isCI: Bool { !(environment["CI"] ?? "").isEmpty }

  func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
  }
}
