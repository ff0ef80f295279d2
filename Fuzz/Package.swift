// swift-tools-version:6.0
// libFuzzer targets for bert-serving-swift, kept out of the main package so its normal build and
// test runs never see -sanitize=fuzzer. Build and run through ../scripts/fuzz.sh.
import PackageDescription

let fuzzer: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Each target's @main hands its LLVMFuzzerTestOneInput to libFuzzer's driver. The sanitizer flags
    // come from ../scripts/fuzz.sh (-Xswiftc -sanitize=fuzzer,address) so that the ServerCore and
    // WordPiece modules are instrumented too, not only these files.
    .unsafeFlags(["-parse-as-library"]),
]

let package = Package(
    name: "bert-serving-fuzz",
    dependencies: [.package(name: "bert-serving-swift", path: "..")],
    targets: [
        // The declaration of libFuzzer's LLVMFuzzerRunDriver.
        .target(name: "CLibFuzzer"),
        // ClientRequest.parse + EncodePayload.parse: what the ventilator does with received frames.
        .executableTarget(
            name: "FuzzWire",
            dependencies: ["CLibFuzzer", .product(name: "ServerCore", package: "bert-serving-swift")],
            swiftSettings: fuzzer
        ),
        // FullTokenizer + FeatureConverter on arbitrary text and token lists.
        .executableTarget(
            name: "FuzzTokenizer",
            dependencies: ["CLibFuzzer", .product(name: "WordPiece", package: "bert-serving-swift")],
            swiftSettings: fuzzer
        ),
    ],
    swiftLanguageModes: [.v6]
)
