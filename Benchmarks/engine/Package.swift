// swift-tools-version:6.0
// Stand-alone release benchmark of the BERT engine: `swift run -c release engine-benchmark`.
// Sources/{BertEngine,Checkpoint,CCRC32C,CKernels,COpenBLAS,CDNNL} are symlinks to the main package's targets, so this
// package builds only what the engine needs.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "engine-benchmark",
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "CCRC32C"),
        .target(name: "Checkpoint", dependencies: ["CCRC32C"], swiftSettings: strict),
        .target(name: "CKernels"),
        .target(
            name: "BertEngine", dependencies: ["Checkpoint", "COpenBLAS", "CDNNL", "CKernels"], swiftSettings: strict),
        .executableTarget(
            name: "engine-benchmark", dependencies: ["BertEngine", "Checkpoint", "COpenBLAS"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
