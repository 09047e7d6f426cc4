import ArgumentParser
import Foundation
import PromptCheck

struct QueryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "query",
    abstract: "Evaluate an RFC 9535 JSONPath on a JSON document.",
    discussion: """
      Prints the selected nodes as one JSON array (with --paths, their normalized
      paths). Exits 0 also when nothing is selected, 2 when the expression or the
      document is invalid.

      Examples:
        promptcheck query '$.choices[0].message.content' response.json
        promptcheck query '$..[?@.price < 10]' --paths - < catalog.json
      """
  )

  @Argument(help: "The JSONPath expression, e.g. '$.a[0]'.")
  var expression: String

  @Argument(help: "A JSON file, or - for standard input (the default).")
  var file: String = "-"

  @Flag(help: "Print the normalized paths of the selected nodes instead of their values.")
  var paths = false

  func run() throws {
    let bytes: [UInt8]
    if file == "-" {
      bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
    } else {
      guard let data = FileManager.default.contents(atPath: file) else {
        printError("error: cannot read '\(file)'")
        throw ExitCode(2)
      }
      bytes = Array(data)
    }
    switch QueryCommandCore.run(expression: expression, document: bytes, paths: paths) {
    case .success(let text):
      print(text)
    case .failure(.badExpression(let e)):
      printError("error: \(e.description)\n  \(e.pointer.replacingOccurrences(of: "\n", with: "\n  "))")
      throw ExitCode(2)
    case .failure(.badDocument(let e)):
      printError("\(file == "-" ? "<stdin>" : file):\(e.line):\(e.column): error: invalid JSON: \(e.message)")
      throw ExitCode(2)
    }
  }
}

func printError(_ s: String) {
  FileHandle.standardError.write(Array((s + "\n").utf8).withUnsafeBytes { Data($0) })
}
