// swift-tools-version:6.1
// The library's spawn path alone, timed with ordo-one/benchmark (bench/spawn.sh runs it).
// A package of its own, not a target of the root package: the benchmark plugin and its
// dependencies (swift-system, atomics, histograms, a malloc interposer) would otherwise be
// resolved and built by every `swift build` of rsandbox, CI's included, for a figure only
// bench/ needs.
import PackageDescription

let package = Package(
    name: "rsandbox-spawn-bench",
    dependencies: [
        .package(name: "rsandbox", path: "../.."),
        // Only the MallocInterposer trait: the default set also names a runtime interposer
        // that this toolchain's package mirror does not have.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "CBenchShim"),
        .executableTarget(
            name: "Spawn",
            dependencies: [
                .product(name: "RSandbox", package: "rsandbox"),
                .product(name: "Benchmark", package: "benchmark"),
                "CBenchShim",
            ],
            path: "Benchmarks/Spawn",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
