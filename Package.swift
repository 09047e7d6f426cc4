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
    .systemLibrary(
      name: "CLibCurl",
      pkgConfig: "libcurl",
      providers: [.apt(["libcurl4-openssl-dev"])]
    ),
    .target(
      name: "PromptCheck",
      dependencies: ["CLibYAML", "CLibCurl"]
    ),
    .executableTarget(
      name: "promptcheck",
      dependencies: [
        "PromptCheck",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // A loopback OpenAI-compatible server with fault injection, for the tests and the benchmarks.
    .target(
      name: "LoopbackServer",
      dependencies: ["PromptCheck"]
    ),
    // Benchmarks (run on a release build: swift run -c release promptcheck-bench --help).
    .executableTarget(
      name: "promptcheck-bench",
      dependencies: ["PromptCheck", "LoopbackServer"]
    ),
    .testTarget(
      name: "PromptCheckTests",
      // The executable is a dependency so that `swift test` builds the binary the end-to-end tests run.
      dependencies: ["PromptCheck", "LoopbackServer", "promptcheck"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
