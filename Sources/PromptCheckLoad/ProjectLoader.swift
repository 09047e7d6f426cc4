import Foundation
import PromptCheckCore

/// Everything a command needs from disk: the config and the suites.
package struct Project: Sendable {
  package var config: Config
  package var suites: [Suite]
  /// Text of every file read, for rendering diagnostics with their source line.
  package var sources: [String: String]
  /// True when suites came from the default tests dir (no paths given): a "full" run.
  package var isFullDiscovery: Bool
  /// Problems that do not stop a run, in file order.
  package var warnings: [Diagnostic] = []

  package var testCount: Int { suites.reduce(0) { $0 + $1.tests.count } }
  package var caseCount: Int { suites.reduce(0) { $0 + $1.caseCount } }
}

/// Loads config and suites from disk: the I/O edge around `ConfigLoader` and `SuiteLoader`.
package enum ProjectLoader {
  package static let defaultConfigName = "promptcheck.yaml"

  /// Loads the project. `paths` are suite files or folders (default: the config's tests dir).
  /// Every problem in every file is returned; `project` is nil when there is any.
  package static func load(
    configPath: String?, paths: [String], limits: YAMLLimits = YAMLLimits(),
    directory: String = FileManager.default.currentDirectoryPath, environment: [String: String] = [:],
    targets: ([String]?, [String]?) = (nil, nil)
  ) -> (project: Project?, diagnostics: [Diagnostic], sources: [String: String]) {
    var sink = DiagnosticSink()
    var sources: [String: String] = [:]
    let fm = FileManager.default
    func absolute(_ p: String) -> String {
      p.hasPrefix("/") ? p : (directory as NSString).appendingPathComponent(p)
    }

    // Config.
    var (config, configProblems) = loadConfig(
      configPath: configPath, limits: limits, directory: directory, environment: environment, sources: &sources)
    config.targetProviders = targets.0
    config.targetModels = targets.1
    sink.append(contentsOf: configProblems)

    // Suite files.
    let isFull = paths.isEmpty
    var files: [(display: String, name: String)] = []
    let testsDir = (absolute(config.testsDir) as NSString).standardizingPath
    if isFull, let globs = config.suiteGlobs {
      // `suites:` globs pick the suite files, so other YAML (fixtures) can live beside them.
      let found = SuiteGlob.files(matching: globs, in: directory)
      if found.isEmpty {
        sink.error(
          "no file matches suites: \(globs.joined(separator: ", "))",
          at: config.file.map { SourceLocation(file: $0, line: 1, column: 1) })
      }
      for f in found {
        let abs = absolute(f)
        let name =
          abs.hasPrefix(testsDir + "/")
          ? suiteName(abs, base: testsDir) : suiteName(abs, base: absolute(SuiteGlob.literalPrefix(f)))
        files.append((f, name))
      }
    }
    let roots = isFull ? (config.suiteGlobs == nil ? [config.testsDir] : []) : paths
    for root in roots {
      let abs = (absolute(root) as NSString).standardizingPath
      var isDir: ObjCBool = false
      guard fm.fileExists(atPath: abs, isDirectory: &isDir) else {
        sink.error(
          isFull && configPath == nil
            ? "no tests dir '\(root)' here; create it with suites, or run 'promptcheck init'"
            : "no such file or folder: '\(root)'", at: nil)
        continue
      }
      if isDir.boolValue {
        let found = suiteFiles(in: abs)
        if found.isEmpty { sink.error("no suite files (*.yaml, *.yml) in '\(root)'", at: nil) }
        for f in found {
          let display = (root as NSString).appendingPathComponent(f)
          let base = abs.hasPrefix(testsDir + "/") || abs == testsDir ? testsDir : abs
          let full = (abs as NSString).appendingPathComponent(f)
          files.append((display, suiteName(full, base: base)))
        }
      } else {
        let name =
          abs.hasPrefix(testsDir + "/")
          ? suiteName(abs, base: testsDir) : suiteName(abs, base: (abs as NSString).deletingLastPathComponent)
        files.append((root, name))
      }
    }

    // Suites: each file read and loaded on its own (concurrently), then taken in file order.
    var unique: [(display: String, name: String, absolute: String)] = []
    var names: [String: String] = [:]
    for (display, name) in files {
      if let other = names[name] {
        sink.error(
          "suite '\(name)' is defined twice: '\(other)' and '\(display)'",
          at: SourceLocation(file: display, line: 1, column: 1))
        continue
      }
      names[name] = display
      unique.append((display, name, absolute(display)))
    }
    let settled = config
    let loaded = concurrentMap(unique.count) { [unique] i in
      loadSuiteFile(
        unique[i].display, name: unique[i].name, absolute: unique[i].absolute, config: settled, limits: limits)
    }
    var suites: [Suite] = []
    for (file, f) in zip(loaded, unique) {
      if let source = file.source { sources[f.display] = source }
      sink.append(contentsOf: file.diagnostics)
      if let suite = file.suite { suites.append(suite) }
    }
    let diagnostics = sink.diagnostics
    var project =
      sink.hasErrors
      ? nil : Project(config: config, suites: suites, sources: sources, isFullDiscovery: isFull)
    project?.warnings = diagnostics
    return (project, diagnostics, sources)
  }

  /// One suite file, read and loaded.
  struct LoadedFile: Sendable {
    var suite: Suite?
    var diagnostics: [Diagnostic]
    /// Its text, to show diagnostics with their line.
    var source: String?
  }

  static func loadSuiteFile(_ display: String, name: String, absolute abs: String, config: Config, limits: YAMLLimits)
    -> LoadedFile
  {
    switch readBytes(abs, display: display, limits: limits) {
    case .failure(let d):
      return LoadedFile(suite: nil, diagnostics: [d], source: nil)
    case .success(let bytes):
      let folder = (abs as NSString).deletingLastPathComponent
      let (suite, ds) = SuiteLoader.load(
        bytes: bytes, file: display, name: name, config: config,
        readFile: { relative in
          let path = relative.hasPrefix("/") ? relative : (folder as NSString).appendingPathComponent(relative)
          guard case .success(let text) = readText(path, display: relative, limits: limits) else { return nil }
          return text
        })
      return LoadedFile(suite: suite, diagnostics: ds, source: String(decoding: bytes, as: UTF8.self))
    }
  }

  /// The config alone (commands that need no suite, such as `accept`): `configPath`, else
  /// `promptcheck.yaml` when present, else the defaults; read with the same size and UTF-8 checks.
  package static func loadConfig(
    configPath: String?, limits: YAMLLimits = YAMLLimits(), directory: String, environment: [String: String] = [:],
    sources: inout [String: String]
  ) -> (Config, [Diagnostic]) {
    func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : (directory as NSString).appendingPathComponent(p) }
    let file =
      configPath ?? (FileManager.default.fileExists(atPath: absolute(defaultConfigName)) ? defaultConfigName : nil)
    guard let file else { return (Config(), []) }
    switch readText(absolute(file), display: file, limits: limits) {
    case .failure(let d):
      return (Config(), [d])
    case .success(let text):
      sources[file] = text
      return ConfigLoader.load(text: text, file: file, environment: environment)
    }
  }

  /// Suite file paths under `folder`, relative to it, sorted.
  static func suiteFiles(in folder: String) -> [String] {
    FileSystem.files(under: folder) { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
  }

  static func suiteName(_ file: String, base: String) -> String {
    var rel = file
    if file.hasPrefix(base + "/") { rel = String(file.dropFirst(base.count + 1)) }
    return (rel as NSString).deletingPathExtension
  }

  static func readBytes(_ path: String, display: String, limits: YAMLLimits) -> Result<[UInt8], Diagnostic> {
    let at = SourceLocation(file: display, line: 1, column: 1)
    // A regular file (every suite, config and dataset, as a rule): one open, fstat and read.
    // (FileManager's attributes cost as much again as the read: a dictionary of them, the
    // owner's and group's names looked up.)
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    if fd >= 0 {
      defer { close(fd) }
      var info = stat()
      if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
        let size = Int(info.st_size)
        if size > limits.maxBytes {
          return .failure(
            Diagnostic("file is too large (\(size) bytes; the limit is \(limits.maxBytes) bytes)", at: at))
        }
        guard let bytes = FileSystem.read(fd, count: size, at: 0) else {
          return .failure(Diagnostic("cannot read '\(display)'", at: nil))
        }
        return .success(bytes)
      }
    }
    // Anything else (a folder, a FIFO, a device) as Foundation reads it.
    guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else {
      return .failure(Diagnostic("cannot read '\(display)': no such file", at: nil))
    }
    if let size = attrs[.size] as? Int, size > limits.maxBytes {
      return .failure(Diagnostic("file is too large (\(size) bytes; the limit is \(limits.maxBytes) bytes)", at: at))
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      return .failure(Diagnostic("cannot read '\(display)'", at: nil))
    }
    return .success(Array(data))
  }

  static func readText(_ path: String, display: String, limits: YAMLLimits) -> Result<String, Diagnostic> {
    switch readBytes(path, display: display, limits: limits) {
    case .failure(let d): return .failure(d)
    case .success(let bytes):
      if let bad = YAMLParser.firstInvalidUTF8(bytes) {
        return .failure(Diagnostic("invalid UTF-8", at: YAMLParser.location(ofByte: bad, in: bytes, file: display)))
      }
      return .success(String(decoding: bytes, as: UTF8.self))
    }
  }

  /// Diagnostics as the CLI prints them: each with its source line and a caret.
  package static func render(_ diagnostics: [Diagnostic], sources: [String: String]) -> String {
    diagnostics.map { d in d.rendered(source: d.location.flatMap { sources[$0.file] }) }.joined(separator: "\n")
  }
}
