import ArgparseCompat
import Testing

@testable import BenchmarkRunner

@Suite struct PlanTests {
    @Test func defaultPlanRunsEveryExperimentInNamespaceOrder() throws {
        let plan = try BenchmarkPlan(arguments: parseBenchmark(["-model_dir", "m"]), model: nil)
        #expect(plan.experiments.map(\.name) == [
            "client_batch_size", "max_batch_size", "max_seq_len", "num_client", "pooling_layer",
        ])
        #expect(plan.experiments[0].runs.map(\.label) == ["1", "16", "256", "4096"])
        #expect(plan.experiments[4].runs.map(\.label) == (1...12).map { "[-\($0)]" })
        #expect(plan.notes.isEmpty)
    }

    @Test func anEmptyTestListDropsTheExperiment() throws {
        let plan = try BenchmarkPlan(
            arguments: parseBenchmark([
                "-model_dir", "m", "-test_max_batch_size", "-test_max_seq_len", "-test_num_client",
                "-test_pooling_layer",
            ]), model: nil)
        #expect(plan.experiments.map(\.name) == ["client_batch_size"])
    }

    @Test func poolingLayersDeeperThanTheModelAreSkippedWithAReason() throws {
        let plan = try BenchmarkPlan(
            arguments: parseBenchmark(["-model_dir", "m"]), model: ModelLimits(layers: 6, maxPositionEmbeddings: 512))
        let pooling = try #require(plan.experiments.first { $0.name == "pooling_layer" })
        #expect(pooling.runs.map(\.label) == (1...6).map { "[-\($0)]" })
        #expect(pooling.skipped.map(\.label) == (7...12).map { "[-\($0)]" })
        #expect(pooling.skipped.allSatisfy { $0.reason.contains("6 layers") })
    }

    @Test func commandLinePoolingLayersReachTheServerAsLists() throws {
        let parsed = try parseBenchmark(["-model_dir", "m", "-test_pooling_layer", "-1", "-3"])
        let plan = try BenchmarkPlan(arguments: parsed, model: ModelLimits(layers: 6, maxPositionEmbeddings: 512))
        let runs = try #require(plan.experiments.first { $0.name == "pooling_layer" }).runs
        #expect(runs.map(\.label) == ["-1", "-3"])
        #expect(runs[1].override.value == .list([.int(-3)]))
        let server = try serverSettings(parsed, runs[1])
        #expect(server["pooling_layer"] == .list([.int(-3)]))
    }

    @Test func outOfRangeValuesAreSkipped() throws {
        let plan = try BenchmarkPlan(
            arguments: parseBenchmark([
                "-model_dir", "m", "-test_client_batch_size", "0", "2", "-test_max_seq_len", "3", "600", "64",
                "-test_num_client", "0", "-test_max_batch_size", "-1",
            ]), model: ModelLimits(layers: 6, maxPositionEmbeddings: 512))
        let byName = Dictionary(uniqueKeysWithValues: plan.experiments.map { ($0.name, $0) })
        #expect(byName["client_batch_size"]?.runs.map(\.label) == ["2"])
        #expect(byName["max_seq_len"]?.runs.map(\.label) == ["64"])
        #expect(byName["max_seq_len"]?.skipped.map(\.label) == ["3", "600"])
        #expect(byName["num_client"]?.runs.isEmpty == true)
        #expect(byName["max_batch_size"]?.runs.isEmpty == true)
    }

    @Test func fewRepeatsAreAveragedWholeWithANote() throws {
        let plan = try BenchmarkPlan(arguments: parseBenchmark(["-model_dir", "m", "-num_repeat", "2"]), model: nil)
        #expect(plan.notes.count == 1)
        #expect(RunSpeeds.averageTime([1, 3]) == 2)
        #expect(RunSpeeds.averageTime([9, 9, 1, 3]) == 2)
        #expect(RunSpeeds(batchSize: 8, clientTimes: [[1, 3]]) == RunSpeeds(batchSize: 8, clientTimes: [[2]]))
    }

    @Test func zeroRepeatsIsAnError() throws {
        #expect(throws: BenchmarkError.self) {
            try BenchmarkPlan(arguments: parseBenchmark(["-model_dir", "m", "-num_repeat", "0"]), model: nil)
        }
    }

    @Test func sequenceLengthNoneGivesTwentyFiveWordSentences() throws {
        let parsed = try parseBenchmark(["-model_dir", "m", "-max_seq_len", "NONE", "-test_max_seq_len"])
        let plan = try BenchmarkPlan(arguments: parsed, model: nil)
        #expect(plan.notes.count == 1)
        #expect(plan.experiments[0].runs[0].client.wordsPerSentence == BenchmarkPlan.wordsWhenSequenceLengthIsNone)
        let server = try serverSettings(parsed, plan.experiments[0].runs[0])
        #expect(server["max_seq_len"] == ParsedValue.none)
    }

    @Test func startCommandLineKeepsEveryNonDefaultServerSetting() throws {
        let argv = [
            "-model_dir", "-odd dir", "-cpu", "-cased_tokenization", "-pooling_strategy", "CLS_TOKEN",
            "-pooling_layer", "-4", "-1", "-port", "18250", "-port_out", "18251", "-gpu_memory_fraction", "0.25",
            "-device_map", "0", "1", "-fp16", "-http_port", "8125", "-ckpt_name", "x.ckpt", "-num_worker", "2",
        ]
        let parsed = try ArgumentParser(spec: .benchmark, prog: "b").parse(argv.map { $0 == "-odd dir" ? "-model_dir=-odd dir" : $0 }.filter { $0 != "-model_dir" })
        let restarted = try ArgumentParser(spec: .start, prog: "s")
            .parse(StartCommandLine.arguments(from: parsed, override: nil))
        for item in restarted.items {
            #expect(parsed[item.dest] == item.value, "\(item.dest)")
        }
        #expect(restarted["model_dir"] == .string("-odd dir"))
        #expect(!StartCommandLine.arguments(from: parsed, override: nil).contains { $0.hasPrefix("-test_") })
    }
}
