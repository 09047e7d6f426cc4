import Foundation
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute

/// After a full, unfiltered run: the cassettes and goldens no test uses, listed or pruned.
package enum Housekeeping {
  package static func orphans(
    cases: [PlannedCase], cassettes: CassetteStore, goldens: GoldenStore, prune: Bool, quiet: Bool,
    _ ctx: CommandContext
  ) {
    // The cassette names the cases use, by folder: most names are short enough to be held inline,
    // and the folders are walked without listing them, so 100,000 cases cost a few megabytes here.
    var used: [String: Set<String>] = [:]
    for c in cases { used[c.suite, default: []].insert(c.fileStem + ".yaml") }
    var unused: [String] = []
    FileSystem.visitFiles(under: cassettes.absoluteRoot, where: { $0.hasSuffix(".yaml") }) { folder, name in
      if used[folder]?.contains(name) != true { unused.append(folder.isEmpty ? name : folder + "/" + name) }
    }
    unused.sort()
    if !unused.isEmpty {
      let listing = unused.map { "  \(cassettes.root)/\($0)\n" }.joined()
      if prune {
        for f in unused {
          (try? cassettes.project.path(cassettes.absoluteRoot + "/" + f))?.remove()
          removeEmptyFolders(
            from: (f as NSString).deletingLastPathComponent, under: cassettes.absoluteRoot, in: cassettes.project)
        }
        ctx.out("pruned \(counted(unused.count, "unused cassette")):\n" + listing)
      } else if !quiet {
        ctx.out("\(counted(unused.count, "cassette")) no test uses (delete with --prune):\n" + listing)
      }
    }
    let usedGoldens = Set(cases.compactMap { c in c.golden.map { GoldenStore.relativePath(c, spec: $0) } })
    let unusedGoldens = GoldenFiles.all(in: goldens.absoluteRoot).filter { !usedGoldens.contains($0) }
    if !unusedGoldens.isEmpty && !quiet {
      ctx.out(
        "\(counted(unusedGoldens.count, "golden")) no test uses:\n"
          + unusedGoldens.map { "  \(goldens.root)/\($0)\n" }.joined())
    }
  }
}

/// Removes `folder` (relative to `root`) and its parents up to `root` while they are empty.
func removeEmptyFolders(from folder: String, under root: String, in project: ProjectRoot) {
  var f = folder
  while !f.isEmpty && f != "." && f != "/" {
    guard let path = try? project.path(root + "/" + f), path.removeIfEmptyFolder() else { return }
    f = (f as NSString).deletingLastPathComponent
  }
}
