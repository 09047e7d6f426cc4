/// The promptcheck version, printed by `--version` and written into cassettes and reports.
package let promptcheckVersion = "0.1.0"

/// `--version`: promptcheck's version and the libraries it runs on.
package func promptcheckVersionLine() -> String {
  "\(promptcheckVersion) (libcurl \(CurlGlobal.version), libyaml \(YAMLParser.libraryVersion))"
}
