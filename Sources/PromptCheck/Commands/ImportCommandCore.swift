import Foundation
import PromptCheckCore
import PromptCheckImport

/// `promptcheck import promptfoo|openai-evals` (README "Coming from promptfoo"): reads the other
/// tool's files, writes a promptcheck project, and says what carried over. Nothing is written
/// when anything stops the import, and nothing is overwritten without `--force`.
package enum ImportCommandCore {
  package enum Source: String, Sendable { case promptfoo, openAIEvals = "openai-evals" }

  package struct Options: Sendable {
    package var source = Source.promptfoo
    package var path: String?
    package var out = "."
    package var force = false
    package init() {}
  }

  /// Files an import reads, at most.
  static let maxFileBytes = 16 << 20

  package static func run(_ o: Options, _ ctx: CommandContext) -> ExitStatus {
    let given: String
    switch o.source {
    case .promptfoo:
      guard
        let p = o.path
          ?? ["promptfooconfig.yaml", "promptfooconfig.yml", "promptfooconfig.json"].first(where: {
            FileManager.default.fileExists(atPath: ctx.absolute($0))
          })
      else {
        ctx.report(Diagnostic("no promptfooconfig.yaml here; give the config's path", at: nil))
        return .invalid
      }
      given = p
    case .openAIEvals:
      guard let p = o.path else {
        ctx.report(Diagnostic("give the eval's YAML spec (an OpenAI Evals registry file)", at: nil))
        return .invalid
      }
      given = p
    }
    let folder = (ctx.absolute(given) as NSString).deletingLastPathComponent
    let read: (String) -> String? = { relative in
      let path = relative.hasPrefix("/") ? relative : folder + "/" + relative
      guard case .success(let bytes) = FileSystem.readRegular(path, limit: maxFileBytes, within: nil) else {
        return nil
      }
      return String(decoding: bytes, as: UTF8.self)
    }
    let list: (String) -> [String] = { relative in
      (try? FileManager.default.contentsOfDirectory(atPath: relative.isEmpty ? folder : folder + "/" + relative)) ?? []
    }
    let isJS = [".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"].contains(where: given.lowercased().hasSuffix)
    guard isJS || FileManager.default.fileExists(atPath: ctx.absolute(given)),
      let text = isJS ? "" : read(ctx.absolute(given))
    else {
      ctx.report(Diagnostic("cannot read \(given)", at: nil))
      return .invalid
    }
    let plan: ImportPlan
    switch o.source {
    case .promptfoo: plan = PromptfooImporter.importConfig(text, file: given, read: read, list: list)
    case .openAIEvals: plan = OpenAIEvalsImporter.importSpec(text, file: given, read: read)
    }
    if ctx.report(plan.errors) {
      ctx.err("nothing was written\n")
      return .invalid
    }
    // Never over what is there, unless asked.
    let files = plan.files + [("import-report.json", plan.report.json.prettyPrinted(keys: .asWritten) + "\n")]
    let out = o.out == "." ? "" : o.out.hasSuffix("/") ? o.out : o.out + "/"
    // A file already there with the same text (a prompt imported in place) is no conflict.
    let existing = files.filter { f in
      let path = ctx.absolute(out + f.0)
      guard FileManager.default.fileExists(atPath: path) else { return false }
      return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } != f.1
    }.map { out + $0.0 }
    if !existing.isEmpty, !o.force {
      ctx.report(
        Diagnostic(
          "these files exist and would be overwritten: \(existing.joined(separator: ", ")); give --force to replace them",
          at: nil))
      ctx.err("nothing was written\n")
      return .invalid
    }
    for (path, text) in files {
      do {
        try AtomicFile.write(text, to: try ctx.writable(out + path))
      } catch {
        ctx.report(Diagnostic("cannot write \(out + path): \(error)", at: nil))
        return .errored
      }
    }
    ctx.out(plan.report.text)
    ctx.out(
      "wrote \(files.count) files\(out.isEmpty ? "" : " under \(out)"): \(files.map(\.0).joined(separator: ", "))\n")
    return plan.report.isExact ? .ok : .failed
  }
}
