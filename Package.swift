// swift-tools-version:6.0
// bert-serving-swift: a drop-in replacement for bert-serving-server 1.10.0.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "bert-serving-swift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bert-serving-start", targets: ["bert-serving-start"]),
        .executable(name: "bert-serving-terminate", targets: ["bert-serving-terminate"]),
        .executable(name: "bert-serving-benchmark", targets: ["bert-serving-benchmark"]),
        .executable(name: "bert-serving-healthcheck", targets: ["bert-serving-healthcheck"]),
        .executable(name: "bert-serving-proxy", targets: ["bert-serving-proxy"]),
        .library(name: "WordPiece", targets: ["WordPiece"]),
        .library(name: "Checkpoint", targets: ["Checkpoint"]),
        .library(name: "BertEngine", targets: ["BertEngine"]),
        .library(name: "ServerCore", targets: ["ServerCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        // Already in the graph through Hummingbird; named for the tests' NIOEmbedded channel.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libzmq3-dev, libopenblas-dev, libmsgpack-dev).
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMsgPack", pkgConfig: "msgpack", providers: [.apt(["libmsgpack-dev"])]),
        // oneDNN 2.6 (Debian libdnnl-dev ships no pkg-config file): bfloat16 matmul behind -fp16.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // Swift over libzmq; nothing BERT-specific.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        // Google BERT's tokenization.py + convert_lst_to_features, on Unicode scalars.
        .target(name: "WordPiece", swiftSettings: strict),
        // TF1 tensor bundles and safetensors, without TensorFlow.
        .target(name: "Checkpoint", dependencies: ["CCRC32C"], swiftSettings: strict),
        // The CPU's CRC-32C instruction (SSE4.2) for checkpoint checksums, behind a cpuid check.
        .target(name: "CCRC32C"),
        // The BERT forward pass and pooling on oneDNN, our panel kernels and OpenBLAS; knows nothing of sockets.
        .target(
            name: "BertEngine", dependencies: ["Checkpoint", "COpenBLAS", "CDNNL", "CKernels"], swiftSettings: strict),
        // The engine's C kernels: dense products on panels packed at load (AVX2 + FMA), attention,
        // LayerNorm and bias + activation compiled per x86-64 level (AVX-512, AVX2, baseline), chosen at load.
        .target(name: "CKernels"),
        // argparse-compatible command lines of bert-serving-start / -terminate / -benchmark.
        .target(name: "ArgparseCompat", swiftSettings: strict),
        // Ventilator, workers, sink: the original's ZeroMQ pipeline.
        .target(
            name: "ServerCore",
            dependencies: [
                "ZeroMQ", "WordPiece", "Checkpoint", "BertEngine", "ArgparseCompat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // HTTP front (-http_port): Hummingbird routes bridged to the ZeroMQ frontend as an in-process client.
        .target(
            name: "HTTPFront",
            dependencies: [
                "ZeroMQ", "CZeroMQ", "CMsgPack", "WordPiece",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Reads the conformance suite's capture files (CompatTests/capture/SCHEMA.md) with msgpack-c.
        .target(name: "CaptureFormat", dependencies: ["CMsgPack"], swiftSettings: strict),

        .executableTarget(name: "bert-serving-start", dependencies: ["ServerCore", "HTTPFront"], swiftSettings: strict),
        .executableTarget(name: "bert-serving-terminate", dependencies: ["ServerCore"], swiftSettings: strict),
        // bert-serving-benchmark: restarts bert-serving-start per experiment value, stock-protocol clients.
        .target(name: "BenchmarkRunner", dependencies: ["ZeroMQ", "ArgparseCompat"], swiftSettings: strict),
        .executableTarget(name: "bert-serving-benchmark", dependencies: ["BenchmarkRunner"], swiftSettings: strict),
        // Docker HEALTHCHECK probe: one SHOW_CONFIG over ZeroMQ with the identity "bert-serving-healthcheck".
        .executableTarget(name: "bert-serving-healthcheck", dependencies: ["CZeroMQ"], swiftSettings: strict),
        // Scale-out front: stock clients connect to it as to one server; it spreads requests over
        // several bert-serving-start backends, health-checks them and retries (no BERT knowledge).
        .target(
            name: "ProxyCore",
            dependencies: ["ZeroMQ", "CZeroMQ", "ServerCore", "ArgparseCompat", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // bert-serving-proxy: ProxyCore's broker plus /metrics, /health, /ready over Hummingbird (-http_port).
        .executableTarget(
            name: "bert-serving-proxy",
            dependencies: ["ProxyCore", "ServerCore", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: strict
        ),

        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "WordPieceTests", dependencies: ["WordPiece"], resources: [.copy("Resources")]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint"], resources: [.copy("Resources")]),
        .testTarget(name: "BertEngineTests", dependencies: ["BertEngine", "Checkpoint", "WordPiece"], resources: [.copy("Resources")]),
        .testTarget(name: "ArgparseCompatTests", dependencies: ["ArgparseCompat"], resources: [.copy("Resources")]),
        .testTarget(name: "ServerCoreTests", dependencies: ["ServerCore", "WordPiece"]),
        .testTarget(name: "ProxyCoreTests", dependencies: ["ProxyCore", "ServerCore", "ZeroMQ", "ArgparseCompat"]),
        .testTarget(name: "CaptureFormatTests", dependencies: ["CaptureFormat"]),
        .testTarget(name: "BenchmarkRunnerTests", dependencies: ["BenchmarkRunner", "ArgparseCompat"], resources: [.copy("Resources")]),
        .testTarget(
            name: "HTTPFrontTests",
            dependencies: [
                "HTTPFront", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
