import Foundation
import Testing
@testable import WordPiece

/// Runs the ORIGINAL tokenizer (rig Python 3.7) on a fresh random sample and compares exactly.
@Suite struct LiveOriginalTests {
    struct LiveOutput: Decodable {
        var vocab: String
        var texts: [String]
        var uncased: [[String]]
        var cased: [[String]]
        var features: [String: [[Golden.FeatureBatch.Feature]]]
    }

    static let liveConfigs: [String: (maxSeqLen: Int?, lower: Bool, maskClsSep: Bool)] = [
        "u25": (25, true, false), "cNone": (nil, false, false), "u64-mask": (64, true, true),
    ]

    @Test(.timeLimit(.minutes(2)))
    func randomSampleMatchesLiveOriginal() throws {
        let python = Golden.rigDirectory + "/py37/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python),
                     "the reference rig is missing: \(python) (run CompatTests/reference/setup.sh or set BSS_RIG_DIR)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../CompatTests/reference/tokenize_live.py").standardizedFileURL.path
        let seed = Int.random(in: 1...1_000_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--seed", String(seed), "--count", "200"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "tokenize_live.py --seed \(seed) exited \(process.terminationStatus)")
        let live = try JSONDecoder().decode(LiveOutput.self, from: data)
        #expect(live.texts.count > 150)

        let vocabulary = try Vocabulary(contentsOfFile: live.vocab)
        var failures: [String] = []
        for doLowerCase in [true, false] {
            let tokenizer = FullTokenizer(vocabulary: vocabulary, doLowerCase: doLowerCase)
            let expected = doLowerCase ? live.uncased : live.cased
            for (text, tokens) in zip(live.texts, expected) where tokenizer.tokenize(text) != tokens {
                failures.append("lower=\(doLowerCase) \(text.debugDescription): expected \(tokens), "
                    + "got \(tokenizer.tokenize(text))")
            }
        }
        for (name, settings) in Self.liveConfigs {
            let converter = FeatureConverter(
                tokenizer: FullTokenizer(vocabulary: vocabulary, doLowerCase: settings.lower),
                maxSeqLen: settings.maxSeqLen, maxPositionEmbeddings: 512,
                maskClsSep: settings.maskClsSep, noSpecialToken: false)
            let batches = try #require(live.features[name], "no \(name) in live output")
            for (number, expected) in batches.enumerated() {
                let texts = Array(live.texts.dropFirst(number * 8).prefix(8))
                if let failure = FeatureGoldenTests.compare(
                    converter.convert(.texts(texts)), expected, label: "\(name) batch \(number)") {
                    failures.append(failure)
                }
            }
        }
        #expect(failures.isEmpty,
                "seed \(seed): \(failures.count) failures:\n\(failures.prefix(5).joined(separator: "\n"))")
    }
}
