// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rsandbox",
    products: [
        .library(name: "RSandbox", targets: ["RSandbox"]),
        .executable(name: "rsandbox", targets: ["rsandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    // helpers/ (privileged, plain C) are built by scripts/build-helpers with the system's cc,
    // not here: SwiftPM would link them against the Swift runtime.
    targets: [
        // The only code that runs between clone3 and execve. C, raw syscalls, no allocation.
        .target(
            name: "CRSandbox",
            cSettings: [.define("_GNU_SOURCE"), .unsafeFlags(["-Wall", "-Wextra", "-Werror"])],
            // The parent builds seccomp programs and reads capability names with these (Debian
            // libseccomp-dev, libcap-dev: both ship .a files for the static release build).
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        // The library. No Foundation.
        .target(
            name: "RSandbox",
            dependencies: ["CRSandbox"]
        ),
        // The CLI: thin, turns flags into a SandboxSpec.
        .executableTarget(
            name: "rsandbox",
            dependencies: [
                "RSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RSandboxTests",
            dependencies: ["RSandbox", "CRSandbox", "rsandbox"]
        ),
    ]
)
