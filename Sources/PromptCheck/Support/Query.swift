import Foundation

/// `promptcheck query`: evaluate a JSONPath on a JSON document (pure).
public enum QueryCommandCore {
  public enum Failure: Error, Equatable {
    case badExpression(JSONPathError)
    case badDocument(JSONParseError)
  }

  /// The selected values (or their normalized paths) as a JSON array text.
  public static func run(expression: String, document: [UInt8], paths: Bool) -> Result<String, Failure> {
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
    if paths {
      return .success(JSON.array(path.selectWithPaths(doc).map { .string($0.path) }).prettyPrinted(keys: .asWritten))
    }
    return .success(JSON.array(path.select(doc)).prettyPrinted(keys: .asWritten))
  }
}
