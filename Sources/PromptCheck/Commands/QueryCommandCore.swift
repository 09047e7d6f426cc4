import Foundation
import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `promptcheck query`: evaluate a JSONPath on a JSON document.
package enum QueryCommandCore {
  package enum QueryError: Error, Equatable {
    case badExpression(JSONPathError)
    case badDocument(JSONParseError)
    case regexTimeout(RegexTimeoutError)
  }

  /// The selected values (or their normalized paths) as a JSON array text.
  package static func run(expression: String, document: [UInt8], paths: Bool) -> Result<String, QueryError> {
    let path: JSONPath
    do {
      path = try JSONPath(expression)
    } catch {
      return .failure(.badExpression(error))
    }
    let doc: JSON
    do {
      doc = try JSON.parse(bytes: document)
    } catch {
      return .failure(.badDocument(error))
    }
    do {
      if paths {
        return .success(
          JSON.array(try path.selectWithPaths(doc).map { .string($0.path) }).prettyPrinted(keys: .asWritten))
      }
      return .success(JSON.array(try path.select(doc)).prettyPrinted(keys: .asWritten))
    } catch {
      return .failure(.regexTimeout(error))
    }
  }

  /// The command as a whole: reads `file` (`-` is standard input; pipes and FIFOs such as
  /// `/dev/stdin` or `<(…)` are read to their end), prints the result, returns the exit status.
  package static func run(expression: String, file: String, paths: Bool, _ ctx: CommandContext) -> ExitStatus {
    let name = file == "-" ? "<stdin>" : file
    let bytes: [UInt8]
    let read =
      file == "-"
      ? ctx.readInput(InputFile.documentLimit) : InputFile.read(ctx.absolute(file), limit: InputFile.documentLimit)
    switch read {
    case .failure(let problem):
      ctx.report(Diagnostic("cannot read '\(name)': \(problem)", at: nil))
      return .invalid
    case .success(let b): bytes = b
    }
    switch run(expression: expression, document: bytes, paths: paths) {
    case .success(let text):
      ctx.out(text + "\n")
      return .ok
    case .failure(.badExpression(let e)):
      ctx.report(Diagnostic("\(e.description)\n  \(e.pointer.replacingOccurrences(of: "\n", with: "\n  "))", at: nil))
      return .invalid
    case .failure(.badDocument(let e)):
      ctx.report(
        Diagnostic("invalid JSON: \(e.message)", at: SourceLocation(file: name, line: e.line, column: e.column)))
      return .invalid
    case .failure(.regexTimeout(let e)):
      ctx.report(Diagnostic("\(e.description)", at: nil))
      return .invalid
    }
  }
}
