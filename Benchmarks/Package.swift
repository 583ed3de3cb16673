// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of Tally's hot functions, kept out of the main package so that
// `swift build` and `swift test` there never fetch or compile the benchmark tooling.
// Run from this folder: swift package --disable-sandbox benchmark
let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Tally", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TallyKit", package: "Tally"),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
