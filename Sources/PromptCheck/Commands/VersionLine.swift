import PromptCheckCompare
import PromptCheckCore
import PromptCheckEvaluate
import PromptCheckExecute
import PromptCheckLoad
import PromptCheckPlan
import PromptCheckReport
import PromptCheckRun
import PromptCheckServe

/// `--version`: promptcheck's version and the libraries it runs on.
package func promptcheckVersionLine() -> String {
  "\(promptcheckVersion) (libcurl \(CurlGlobal.version), libyaml \(YAMLParser.libraryVersion))"
}
