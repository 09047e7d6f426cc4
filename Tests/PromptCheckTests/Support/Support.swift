import Foundation

/// Paths the tests share.
enum TestPaths {
  /// The package root (this file is Tests/PromptCheckTests/Support/Support.swift).
  static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Public test data kept in the repository (`Tests/Fixtures`, each folder with its licence notice).
  static let fixtures: URL = packageRoot.appendingPathComponent("Tests/Fixtures")
}

/// A fresh temporary directory, removed when the last reference goes (the end of the test's scope).
final class TemporaryDirectory: Sendable {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("promptcheck-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func write(_ relative: String, _ text: String) throws {
    let file = url.appendingPathComponent(relative)
    try FileManager.default.createDirectory(
      at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: file, atomically: true, encoding: .utf8)
  }

  func read(_ relative: String) throws -> String {
    try String(contentsOf: url.appendingPathComponent(relative), encoding: .utf8)
  }

  func exists(_ relative: String) -> Bool {
    FileManager.default.fileExists(atPath: url.appendingPathComponent(relative).path)
  }

  deinit {
    try? FileManager.default.removeItem(at: url)
  }
}
