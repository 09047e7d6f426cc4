import Foundation
import PromptCheckCore

/// What an import carried over (README "Coming from promptfoo"): every construct it met, at its
/// place, mapped exactly, approximated (and how) or dropped (and why).
package struct ImportReport: Sendable {
  package enum Status: String, Sendable {
    case mapped, approximated, dropped
  }

  package struct Entry: Sendable {
    package var location: SourceLocation
    package var construct: String
    package var status: Status
    /// How it was mapped, approximated or why it was dropped.
    package var note: String
  }

  package var source: String
  package var entries: [Entry] = []

  package init(source: String) { self.source = source }

  package mutating func add(_ status: Status, _ construct: String, at location: SourceLocation, _ note: String) {
    entries.append(Entry(location: location, construct: construct, status: status, note: note))
  }

  package func count(_ s: Status) -> Int { entries.count { $0.status == s } }

  /// Everything mapped exactly.
  package var isExact: Bool { count(.approximated) == 0 && count(.dropped) == 0 }

  /// `file:line:col: approximated: factuality → llm-rubric (…)`, the approximated and dropped
  /// first, then a count line.
  package var text: String {
    var out = ""
    for s in [Status.dropped, .approximated, .mapped] {
      for e in entries where e.status == s {
        out += "\(e.location): \(s.rawValue): \(e.construct)" + (e.note.isEmpty ? "" : " — \(e.note)") + "\n"
      }
    }
    out +=
      "imported \(source): \(count(.mapped)) mapped, \(count(.approximated)) approximated, \(count(.dropped)) dropped\n"
    return out
  }

  package var json: JSON {
    var o = JSONObject()
    o["source"] = .string(source)
    o["mapped"] = .int(count(.mapped))
    o["approximated"] = .int(count(.approximated))
    o["dropped"] = .int(count(.dropped))
    o["entries"] = .array(
      entries.map { e in
        [
          "file": .string(e.location.file), "line": .int(e.location.line), "column": .int(e.location.column),
          "construct": .string(e.construct), "status": .string(e.status.rawValue), "note": .string(e.note),
        ]
      })
    return .object(o)
  }
}

/// The files an import writes (paths relative to its output folder) and what it says of them.
package struct ImportPlan: Sendable {
  package var files: [(path: String, text: String)] = []
  package var report: ImportReport
  /// Problems that stop the import: nothing is written.
  package var errors: [Diagnostic] = []

  package init(report: ImportReport) { self.report = report }
}
