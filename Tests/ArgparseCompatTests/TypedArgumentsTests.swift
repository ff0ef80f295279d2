import Testing

@testable import ArgparseCompat

@Suite("Typed settings read from the namespace")
struct TypedArgumentsTests {
    let start = ArgumentParser(spec: .start, prog: "bert-serving-start")

    @Test("defaults of bert-serving-start 1.10.0")
    func serverDefaults() throws {
        let args = try ServerArguments(try start.parse(["-model_dir", "/m"]))
        #expect(args.modelDir == "/m")
        #expect(args.tunedModelDir == nil && args.graphTmpDir == nil && args.httpPort == nil)
        #expect(args.ckptName == "bert_model.ckpt" && args.configName == "bert_config.json")
        #expect(args.maxSeqLen == 25 && args.doLowerCase && args.poolingLayer == [-2])
        #expect(args.poolingStrategy == 2 && args.poolingStrategyName == "REDUCE_MEAN")
        #expect(args.port == 5555 && args.portOut == 5556 && args.httpMaxConnect == 10 && args.cors == "*")
        #expect(args.numWorker == 1 && args.maxBatchSize == 256 && args.priorityBatchSize == 16)
        #expect(!args.cpu && !args.xla && !args.fp16 && !args.verbose && !args.fixedEmbedLength)
        #expect(!args.maskClsSep && !args.noSpecialToken && !args.showTokensToClient && !args.noPositionEmbeddings)
        #expect(args.gpuMemoryFraction == 0.5 && args.deviceMap == [] && args.prefetchSize == 10)
    }

    @Test("aliases, NONE, store_false and lists")
    func serverValues() throws {
        let parsed = try start.parse([
            "-model_dir=/m", "-max_seq_len", "NONE", "-pooling_strategy", "SEP_TOKEN", "-cased_t",
            "-pooling_layer", "-4", "-3", "-port_in", "7000", "-port_result", "7001", "-http_port", "8125",
            "-device_map", "0", "1", "-num_w", "3", "-cpu", "-gpu_memory_fraction", "1",
        ])
        let args = try ServerArguments(parsed)
        #expect(args.maxSeqLen == nil)
        #expect(args.poolingStrategy == 5 && args.poolingStrategyName == "LAST_TOKEN")
        #expect(!args.doLowerCase)
        #expect(args.poolingLayer == [-4, -3] && args.deviceMap == [0, 1])
        #expect(args.port == 7000 && args.portOut == 7001 && args.httpPort == 8125)
        #expect(args.numWorker == 3 && args.cpu && args.gpuMemoryFraction == 1.0)
        #expect(parsed.orderedConfigItems.first { $0.key == "pooling_strategy" }?.value == .int(5))
        #expect(parsed.orderedConfigItems.first { $0.key == "max_seq_len" }?.value == ParsedValue.none)
    }

    @Test("a value argparse stores with the wrong type is reported, not trapped")
    func unexpectedValue() throws {
        let parsed = try start.parse(["-model_dir=--"])
        #expect(parsed["model_dir"] == .list([]))
        #expect(throws: ArgparseError.unexpectedValue(dest: "model_dir", value: "[]")) { try ServerArguments(parsed) }
    }

    @Test("benchmark experiment table and set_defaults extras")
    func benchmark() throws {
        let parser = ArgumentParser(spec: .benchmark, prog: "bert-serving-benchmark")
        let defaults = try BenchmarkArguments(try parser.parse(["-model_dir", "/m"]))
        #expect(defaults.testPoolingLayer == (1...12).map { [-$0] })
        #expect(defaults.testClientBatchSize == [1, 16, 256, 4096] && defaults.testNumClient == [1, 4, 16, 64])
        #expect(defaults.numClient == 1 && defaults.clientBatchSize == 4096 && defaults.numRepeat == 10)
        #expect(defaults.waitTillReady == 30 && defaults.clientVocabFile == "README.md")
        let given = try BenchmarkArguments(
            try parser.parse(["-model_dir", "/m", "-test_pooling_layer", "-1", "-3", "-test_max_seq_len"]))
        #expect(given.testPoolingLayer == [[-1], [-3]] && given.testMaxSeqLen == [])
    }

    @Test("terminate")
    func terminate() throws {
        let parser = ArgumentParser(spec: .terminate, prog: "bert-serving-terminate")
        let args = try TerminateArguments(try parser.parse(["-port_data=1234", "-t", "100"]))
        #expect(args.ip == "localhost" && args.port == 1234 && args.timeout == 100)
    }
}

@Suite("Engine behaviour beyond the golden tables")
struct EngineBehaviourTests {
    @Test("COLUMNS is read with Python int(); unset or invalid means 80")
    func columns() {
        #expect(ArgumentParser.columns(fromEnvironment: [:]) == nil)
        #expect(ArgumentParser.columns(fromEnvironment: ["COLUMNS": " 120 "]) == 120)
        #expect(ArgumentParser.columns(fromEnvironment: ["COLUMNS": "wide"]) == nil)
        #expect(ArgumentParser(spec: .terminate, prog: "p").width == 78)
        #expect(ArgumentParser(spec: .terminate, prog: "p", columns: 120).width == 118)
    }

    @Test("prog is the basename of argv[0], as os.path.basename computes it")
    func programName() {
        #expect(ArgumentParser.programName(argv0: "/usr/local/bin/bert-serving-start") == "bert-serving-start")
        #expect(ArgumentParser.programName(argv0: "bert-serving-start") == "bert-serving-start")
        #expect(ArgumentParser.programName(argv0: "/opt/bin/") == "")
        let parser = ArgumentParser(spec: .terminate, argv0: "/x/bert-serving-terminate", environment: ["COLUMNS": "100"])
        #expect(parser.prog == "bert-serving-terminate" && parser.width == 98)
    }

    /// Deliberate divergence: Python ints are unbounded, so the original accepts
    /// `-num_worker 9223372036854775808` and fails later; we reject it as argparse rejects any
    /// non-int, with the same message shape and exit status 2.
    @Test("integers beyond Int are a usage error")
    func hugeInteger() {
        let parser = ArgumentParser(spec: .start, prog: "bert-serving-start")
        #expect(throws: ArgparseError.self) { try parser.parse(["-model_dir", "m", "-num_worker", "9223372036854775808"]) }
        do {
            _ = try parser.parse(["-model_dir", "m", "-num_worker", "9223372036854775808"])
        } catch {
            #expect(error.exitCode == 2)
            #expect(error.standardError.hasSuffix(
                "bert-serving-start: error: argument -num_worker: invalid int value: '9223372036854775808'\n"))
        }
    }

    @Test("a hidden option parses but stays out of usage and help")
    func hiddenOption() throws {
        var spec = ParserSpec.originalTerminate
        spec.options.append(.store(["-zz_secret"], type: .int, default: .int(1), help: "x", hidden: true))
        let parser = ArgumentParser(spec: spec, prog: "bert-serving-terminate")
        let original = ArgumentParser(spec: .originalTerminate, prog: "bert-serving-terminate")
        #expect(parser.formatHelp() == original.formatHelp())
        #expect(try parser.parse(["-port", "1", "-zz_secret", "5"])["zz_secret"] == .int(5))
    }

    @Test("%(default)s and %(prog)s in help are expanded like argparse")
    func helpExpansion() {
        let spec = ParserSpec(description: "d", options: [
            .store(["-limit"], type: .int, default: .int(7), help: "at most %(default)s for %(prog)s, 100%%")
        ])
        let help = ArgumentParser(spec: spec, prog: "tool").formatHelp()
        // Python 3.7: argparse.ArgumentParser(prog='tool', description='d') with the same argument.
        #expect(help == "usage: tool [-h] [-limit LIMIT]\n\nd\n\noptional arguments:\n"
            + "  -h, --help    show this help message and exit\n  -limit LIMIT  at most 7 for tool, 100%\n")
    }

    @Test("argument table right-aligns names to 20 columns and keeps long names whole")
    func argumentTable() throws {
        let parsed = try ArgumentParser(spec: .terminate, prog: "t").parse(["-port", "9"])
        #expect(parsed.argumentTable(argv: ["/bin/t", "-port", "9"]) == """
            usage: /bin/t -port 9
                             ARG   VALUE
            __________________________________________________
                              ip = localhost
                            port = 9
                         timeout = 5000


            """)
    }
}
