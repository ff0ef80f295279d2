import ArgparseCompat
import Testing
@testable import ServerCore

struct ServerConfigTests {
    static func parse(_ args: [String]) throws -> ParsedArguments {
        try ArgumentParser(spec: ParserSpec.start, prog: "bert-serving-start").parse(args)
    }

    static let commandLines: [[String]] = [
        ["-model_dir", "/m"],
        ["-model_dir=/m", "-max_seq_len", "NONE", "-pooling_strategy", "CLS_TOKEN", "-pooling_layer", "-4", "-3"],
        ["-model_dir", "/m", "-num_worker", "4", "-port_in", "7000", "-port_result", "7001", "-cpu", "-fp16",
         "-show_tokens_to_client", "-cased_tokenization", "-device_map", "0", "1", "-gpu_memory_fraction", "0.25",
         "-http_port", "8125", "-tuned_model_dir", "/t", "-graph_tmp_dir", "/g", "-fixed_embed_length"],
    ]

    /// Our SHOW_CONFIG argument items equal ArgparseCompat's port of `sorted(vars(args).items())`
    /// of the ORIGINAL parser: our own options (`swiftStartOptions`) never show in SHOW_CONFIG.
    @Test(arguments: commandLines)
    func argumentItemsMatchTheParsedNamespace(_ args: [String]) throws {
        let parsed = try Self.parse(args)
        let original = try ArgumentParser(spec: ParserSpec.originalStart, prog: "bert-serving-start").parse(args)
        let config = try ServerConfig(arguments: parsed)
        let ours = "{" + config.argumentItems.map { PyJSON.string($0.0).text + ": " + $0.1.text }
            .joined(separator: ", ") + "}"
        #expect(ours == original.configJSON)
    }

    @Test func typedFieldsFollowTheFlags() throws {
        let c = try ServerConfig(arguments: try Self.parse(Self.commandLines[2]))
        #expect(c.numWorker == 4 && c.port == 7000 && c.portOut == 7001)
        #expect(c.cpu && c.fp16 && c.showTokensToClient && !c.doLowerCase && c.fixedEmbedLength)
        #expect(c.deviceMap == [0, 1] && c.gpuMemoryFraction == 0.25 && c.httpPort == 8125)
        #expect(c.tunedModelDir == "/t" && c.graphTmpDir == "/g")
        #expect(c.numConcurrentSocket == 8)
        let n = try ServerConfig(arguments: try Self.parse(Self.commandLines[1]))
        #expect(n.maxSeqLen == nil && n.poolingStrategy == 4 && n.poolingLayer == [-4, -3])
    }
}
