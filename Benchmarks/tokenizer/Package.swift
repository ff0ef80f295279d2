// swift-tools-version:6.0
// Tokenizer throughput benchmark (not part of CI): see run.py.
import PackageDescription

let package = Package(
    name: "tokenizer-bench",
    dependencies: [.package(name: "bert-serving-swift", path: "../..")],
    targets: [
        .executableTarget(
            name: "tokenizer-bench",
            dependencies: [.product(name: "WordPiece", package: "bert-serving-swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
