import Foundation
import Testing

@testable import PromptCheck
@testable import PromptCheckCore
@testable import PromptCheckLoad

/// `RunSettings.table` is the one declaration of a run setting: every reader goes through it.
@Suite struct SettingsTableTests {
  static let rows = RunSettings.table.rows

  /// A value of the row's type, as the config writes it, and one of the wrong type.
  static func samples(_ row: any SettingRow) -> (good: String, bad: String) {
    switch row.type {
    case .flag: ("true", "'yes please'")
    case .integer(let r): ("\(r.lowerBound)", "\(r.upperBound + 1)")
    case .seconds, .fraction, .amount: ("0.5", "'soon'")
    case .path: ("out/file", "[a, b]")
    case .patterns: ("[a, b]", "{a: 1}")
    case .choice(let words): (words[0], "nonsense")
    case .parsed: ("1/2", "nonsense")
    }
  }

  @Test(arguments: rows.map(\.key))
  func theConfigReadsEachRowAndPlacesItsProblems(key: String) throws {
    let row = try #require(Self.rows.first { $0.key == key })
    let (good, bad) = Self.samples(row)
    let (config, problems) = ConfigLoader.load(text: "\(key): \(good)\n", file: "promptcheck.yaml")
    #expect(problems == [])
    #expect(config.run != RunSettings(), "\(key) was not kept")
    let (_, badProblems) = ConfigLoader.load(text: "\(key): \(bad)\n", file: "promptcheck.yaml")
    #expect(badProblems.count == 1)
    let text = badProblems.first?.description ?? ""
    #expect(text.hasPrefix("promptcheck.yaml:1:\(key.count + 3): error: \(key) must be"), "\(text)")
  }

  @Test func aLayerOverridesOnlyWhatItGives() {
    var config = RunSettings()
    config.jobs = 4
    config.html = "out.html"
    var flags = RunSettings()
    flags.jobs = 2
    let merged = config.overridden(by: flags)
    #expect(merged.jobs == 2)
    #expect(merged.html == "out.html")
    #expect(merged.timeout == nil)
    let resolved = try? ResolvedRunSettings.resolve(
      flags: flags, config: config, isCI: false, noColorEnv: false, isTTY: false
    ).get()
    #expect(resolved?.jobs == 2)
    #expect(resolved?.timeout == 120)
    #expect(resolved?.junit == ".promptcheck/junit.xml")
    #expect(resolved?.shard == nil)
  }

  @Test func flagValuesOutOfRangeAreNamedByTheirFlag() {
    var flags = RunSettings()
    flags.jobs = 0
    flags.maxResponseBytes = 10
    flags.minPassRate = 2
    flags.stallTimeout = 0
    #expect(
      flags.rangeProblems().map(\.description) == [
        "error: --jobs must be from 1 to 1024, found 0",
        "error: --max-response-bytes must be from 1024 to 2^40, found 10",
        "error: --stall-timeout must be a positive number of seconds (at most 86400), found 0.0",
        "error: --min-pass-rate must be between 0 and 1, found 2.0",
      ])
  }

  @Test func everyRowIsInTheSchemaWithItsHelp() {
    let entries = EditorSchema.configEntries
    for row in Self.rows {
      #expect(entries[row.key]?.description == row.flagHelp, "\(row.key)")
      #expect(ConfigLoader.keys.contains(row.key))
    }
  }

  @Test func everyRowIsAFlagOfRunWithItsHelp() throws {
    let dir = try TemporaryDirectory()
    let r = try BinaryRunner.run(["run", "--help"], in: dir.url, environment: ["COLUMNS": "2000"])
    #expect(r.status == 0)
    for row in Self.rows {
      #expect(r.stdout.contains("--\(row.flag)"), "--\(row.flag)")
    }
  }
}
