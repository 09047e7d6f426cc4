/// The promptcheck version, printed by `--version` and written into cassettes and reports.
package let promptcheckVersion = "0.1.0"
