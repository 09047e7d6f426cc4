// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "promptcheck",
  products: [
    // The library target is internal to the package (its API is `package`): the product is the tool.
    .executable(name: "promptcheck", targets: ["promptcheck"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    .systemLibrary(
      name: "CLibYAML",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"])]
    ),
    // inotify for `watch` (in the C library: no package to install).
    .systemLibrary(name: "CInotify"),
    // What the C library module leaves out: openat2 (RESOLVE_BENEATH: a cassette or golden opened
    // inside the project in one call) and mallopt.
    .systemLibrary(name: "CLinux"),
    .systemLibrary(
      name: "CLibCurl",
      pkgConfig: "libcurl",
      providers: [.apt(["libcurl4-openssl-dev"])]
    ),
    // The layers (README "Development"). A target may import only the ones below it, so a
    // wrong-way use is a compile error: values and helpers at the bottom, the five stages
    // beside one another on top of them (none sees another), the wiring above, commands last.
    //
    //   PromptCheck (commands)
    //   PromptCheckRun (execute + evaluate)   PromptCheckCompare   PromptCheckServe
    //   PromptCheckLoad  PromptCheckPlan  PromptCheckExecute  PromptCheckEvaluate  PromptCheckReport
    //   PromptCheckCore (Support, YAML, JSONPath, Model)
    .target(
      name: "PromptCheckCore",
      dependencies: ["CLibYAML", "CLinux"]
    ),
    .target(name: "PromptCheckLoad", dependencies: ["PromptCheckCore"]),
    .target(name: "PromptCheckPlan", dependencies: ["PromptCheckCore"]),
    .target(name: "PromptCheckExecute", dependencies: ["PromptCheckCore", "CLibCurl"]),
    .target(name: "PromptCheckEvaluate", dependencies: ["PromptCheckCore"]),
    .target(name: "PromptCheckReport", dependencies: ["PromptCheckCore"]),
    .target(
      name: "PromptCheckRun",
      dependencies: ["PromptCheckCore", "PromptCheckPlan", "PromptCheckExecute", "PromptCheckEvaluate"]
    ),
    .target(name: "PromptCheckCompare", dependencies: ["PromptCheckCore", "PromptCheckExecute", "PromptCheckReport"]),
    .target(name: "PromptCheckServe", dependencies: ["PromptCheckCore", "PromptCheckExecute"]),
    .target(name: "PromptCheckImport", dependencies: ["PromptCheckCore", "PromptCheckLoad"]),
    .target(
      name: "PromptCheck",
      dependencies: [
        "PromptCheckCore", "PromptCheckLoad", "PromptCheckPlan", "PromptCheckExecute", "PromptCheckEvaluate",
        "PromptCheckReport", "PromptCheckRun", "PromptCheckCompare", "PromptCheckServe", "PromptCheckImport",
        "CInotify",
      ]
    ),
    .executableTarget(
      name: "promptcheck",
      dependencies: [
        "PromptCheck", "PromptCheckCore", "PromptCheckLoad", "PromptCheckExecute", "PromptCheckReport",
        "PromptCheckRun", "PromptCheckServe", "PromptCheckImport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // A loopback OpenAI-compatible server with fault injection, for the tests and the benchmarks.
    .target(
      name: "LoopbackServer",
      dependencies: ["PromptCheckCore", "PromptCheckServe"]
    ),
    // Benchmarks (run on a release build: swift run -c release promptcheck-bench --help).
    .executableTarget(
      name: "promptcheck-bench",
      dependencies: [
        "PromptCheck", "PromptCheckCore", "PromptCheckLoad", "PromptCheckPlan", "PromptCheckExecute",
        "PromptCheckEvaluate", "PromptCheckReport", "PromptCheckRun", "PromptCheckServe", "LoopbackServer",
        // The floor of replay's cassette reading: libyaml's event API alone over the same files.
        "CLibYAML",
      ]
    ),
    .testTarget(
      name: "PromptCheckTests",
      // The executable is a dependency so that `swift test` builds the binary the end-to-end tests run.
      dependencies: [
        "PromptCheck", "PromptCheckCore", "PromptCheckLoad", "PromptCheckPlan", "PromptCheckExecute",
        "PromptCheckEvaluate", "PromptCheckReport", "PromptCheckRun", "PromptCheckCompare", "PromptCheckServe",
        "PromptCheckImport", "LoopbackServer", "promptcheck",
      ]
    ),
  ],
  swiftLanguageModes: [.v6]
)
