// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rsandbox",
    products: [
        .library(name: "RSandbox", targets: ["RSandbox"]),
        .library(name: "Netns", targets: ["Netns"]),
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
        // libnl-3 + libnl-route-3, for Netns (netd itself is C and links libnl directly).
        .systemLibrary(
            name: "CNetlink",
            path: "netns/CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        // A small Swift API over libnl: links, veth, bridge, addresses, routes, link events.
        .target(
            name: "Netns",
            dependencies: ["CNetlink"],
            path: "netns/Netns"
        ),
        // `netns-tool`: Netns as a command, so tests drive it as an unprivileged user inside a
        // sandbox's own user and network namespaces (never on the host's links).
        .executableTarget(
            name: "netns-tool",
            dependencies: ["Netns"],
            path: "netns/NetnsTool"
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
