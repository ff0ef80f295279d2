import ArgparseCompat
import Foundation
import Testing

@testable import BenchmarkRunner

/// benchmark_golden.json: the original run_benchmark with fake server and clients
/// (CompatTests/benchmark/gen_benchmark_golden.py).
struct BenchmarkGolden: Decodable {
    struct Run: Decodable, Equatable {
        var client_batch_size: Int
        var num_client: Int
        var max_seq_len: Int?
        var max_batch_size: Int
        var pooling_layer: [Int]
    }
    struct Case: Decodable {
        var argv: [String]
        var runs: [Run]
        var stdout: String
        var result_files: [String: String]
    }
    struct ServerConfig: Decodable {
        var reply: String
        var printed: String
    }
    var cases: [Case]
    var server_config: [ServerConfig]

    static func load() throws -> BenchmarkGolden {
        guard let url = Bundle.module.url(forResource: "benchmark_golden", withExtension: "json", subdirectory: "Resources")
        else { throw GoldenMissing() }
        return try JSONDecoder().decode(BenchmarkGolden.self, from: Data(contentsOf: url))
    }
    struct GoldenMissing: Error {}
}

func parseBenchmark(_ argv: [String]) throws -> ParsedArguments {
    try ArgumentParser(spec: .benchmark, prog: "bert-serving-benchmark").parse(argv)
}

/// What the server would be started with for `run`, read back through the start parser.
func serverSettings(_ parsed: ParsedArguments, _ run: ExperimentRun) throws -> ParsedArguments {
    let argv = StartCommandLine.arguments(from: parsed, override: run.override)
    return try ArgumentParser(spec: .start, prog: "bert-serving-start").parse(argv)
}

@Suite struct GoldenPlanTests {
    static let golden = try? BenchmarkGolden.load()
    static var caseIndices: [Int] { Array(0..<(golden?.cases.count ?? 1)) }

    @Test("runs, in the original's order, with the original's server and client settings", arguments: caseIndices)
    func runsMatchTheOriginal(index: Int) throws {
        let golden = try #require(Self.golden, "benchmark_golden.json missing")
        let c = golden.cases[index]
        let parsed = try parseBenchmark(c.argv + ["-client_vocab_file", "v"])
        let plan = try BenchmarkPlan(arguments: parsed, model: nil)
        let runs = plan.experiments.flatMap(\.runs)
        #expect(runs.count == c.runs.count)
        for (run, expected) in zip(runs, c.runs) {
            let server = try serverSettings(parsed, run)
            guard case .int(let maxBatch) = server["max_batch_size"], case .list(let layers) = server["pooling_layer"]
            else { Issue.record("unexpected server namespace"); continue }
            let actual = BenchmarkGolden.Run(
                client_batch_size: run.client.batchSize, num_client: run.client.clientCount,
                max_seq_len: { if case .int(let n) = server["max_seq_len"] { return n }; return nil }(),
                max_batch_size: maxBatch,
                pooling_layer: layers.compactMap { if case .int(let l) = $0 { return l }; return nil })
            #expect(actual == expected)
            #expect(run.client.wordsPerSentence == expected.max_seq_len)
        }
    }

    @Test("speed lines and result file text equal the original's for the same client speeds", arguments: caseIndices)
    func outputMatchesTheOriginal(index: Int) throws {
        let golden = try #require(Self.golden, "benchmark_golden.json missing")
        let c = golden.cases[index]
        let parsed = try parseBenchmark(c.argv + ["-client_vocab_file", "v"])
        let plan = try BenchmarkPlan(arguments: parsed, model: nil)
        let vocabulary = ClientVocabulary(words: ClientVocabulary.split("alpha beta\ngamma alpha\n"))
        var stdout = "vocabulary size: \(vocabulary.words.count)\n"
        var result = ""
        var runNumber = 0
        for experiment in plan.experiments {
            var rows: [(label: String, speed: Int)] = []
            for run in experiment.runs {
                runNumber += 1
                // The generator's fake client i of run k reports 100.5 + 37 k + 3.25 i samples/s.
                let times = (0..<run.client.clientCount).map { i in
                    Array(repeating: Double(run.client.batchSize) / (100.5 + 37 * Double(runNumber) + 3.25 * Double(i)),
                          count: run.client.repeatCount)
                }
                let speeds = try #require(RunSpeeds(batchSize: run.client.batchSize, clientTimes: times))
                stdout += BenchmarkReport.speedLine(speeds) + "\n"
                rows.append((run.label, speeds.average))
            }
            if !rows.isEmpty { result += BenchmarkReport.resultBlock(name: experiment.name, rows: rows) }
        }
        #expect(stdout == c.stdout)
        guard case .int(let workers) = parsed["num_worker"], case .bool(let fp16) = parsed["fp16"] else {
            Issue.record("namespace without num_worker / fp16")
            return
        }
        let name = BenchmarkReport.resultFileName(numWorker: workers, fp16: fp16)
        #expect(c.result_files == [name: result])
    }

    @Test("each client prints the server config as the stock client's _print_dict does")
    func serverConfigDumpMatchesTheOriginal() throws {
        let golden = try #require(Self.golden, "benchmark_golden.json missing")
        #expect(golden.server_config.count == 3)
        for item in golden.server_config {
            #expect(ServerConfigText.format(Array(item.reply.utf8)) == item.printed)
        }
        #expect(ServerConfigText.format(Array("[1]".utf8)) == nil)
        #expect(ServerConfigText.format(Array("{\"a\": ".utf8)) == nil)
    }
}
