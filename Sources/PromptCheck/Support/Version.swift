/// The promptcheck version, printed by `--version` and written into cassettes and reports.
public let promptcheckVersion = "0.1.0"
