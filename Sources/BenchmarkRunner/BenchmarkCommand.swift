import ArgparseCompat
import Foundation
import Synchronization

/// The `bert-serving-benchmark` program (bert_serving/server/cli `benchmark()`).
public enum BenchmarkCommand {
    /// Environment variable naming another server executable (tests run the original with it).
    public static let serverOverrideVariable = "BSS_BENCHMARK_SERVER"

    /// Parses `argv`, prints the argument table like `get_run_args`, runs the plan.
    /// - Returns: the exit status: 0, 2 for usage errors, 1 when the benchmark could not finish.
    public static func main(argv: [String], environment: [String: String]) -> Int32 {
        let console = Console()
        let parser = ArgumentParser(
            spec: .benchmark, argv0: argv.first ?? "bert-serving-benchmark", environment: environment)
        let parsed: ParsedArguments
        let typed: BenchmarkArguments
        do {
            parsed = try parser.parse(Array(argv.dropFirst()))
            typed = try BenchmarkArguments(parsed)
        } catch {
            Console.write(error.standardOutput, to: 1)
            Console.write(error.standardError, to: 2)
            return error.exitCode
        }
        Console.write(parsed.argumentTable(argv: argv), to: 1)
        do {
            let vocabulary = try loadVocabulary(typed, console: console)
            console.line("vocabulary size: \(vocabulary.words.count)")
            let plan = try BenchmarkPlan(arguments: parsed, model: modelLimits(typed.server))
            for note in plan.notes { console.note(note) }
            let serverPath = try serverExecutable(environment: environment)
            let settings = BenchmarkRunner.Settings(
                serverPath: serverPath, arguments: parsed, port: typed.server.port, portOut: typed.server.portOut,
                waitTillReady: typed.waitTillReady,
                resultPath: BenchmarkReport.resultFileName(numWorker: typed.server.numWorker, fp16: typed.server.fp16))
            installSignalHandlers()
            try BenchmarkRunner(settings: settings, plan: plan, vocabulary: vocabulary, console: console).run()
            return 0
        } catch {
            console.note("error: \(error)")
            return 1
        }
    }

    /// `-client_vocab_file`; when it is the default `README.md` and the working directory has none,
    /// the model's `vocab.txt` (the original raises `FileNotFoundError`).
    static func loadVocabulary(_ arguments: BenchmarkArguments, console: Console) throws(BenchmarkError)
        -> ClientVocabulary
    {
        let path = arguments.clientVocabFile
        if path == "README.md" && !FileManager.default.fileExists(atPath: path) {
            let fallback = (arguments.server.modelDir as NSString).appendingPathComponent("vocab.txt")
            console.note("no README.md in the working directory for -client_vocab_file; using the words of \(fallback)")
            return try ClientVocabulary(modelVocabularyAt: fallback)
        }
        return try ClientVocabulary(contentsOfFile: path)
    }

    /// The model's layer count and position limit from `-config_name` in `-model_dir` (or a Hugging
    /// Face `config.json`); nil when unreadable (the server will say why).
    static func modelLimits(_ server: ServerArguments) -> ModelLimits? {
        let dir = server.modelDir as NSString
        for name in [server.configName, "config.json"] {
            let path = dir.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let layers = object["num_hidden_layers"] as? Int
            else { continue }
            return ModelLimits(
                layers: layers, maxPositionEmbeddings: object["max_position_embeddings"] as? Int ?? 512)
        }
        return nil
    }

    /// `bert-serving-start` in the directory of this executable, or `$BSS_BENCHMARK_SERVER`.
    static func serverExecutable(environment: [String: String]) throws(BenchmarkError) -> String {
        let path: String
        if let override = environment[serverOverrideVariable], !override.isEmpty {
            path = override
        } else {
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments.first ?? ""
            path = ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("bert-serving-start")
        }
        guard access(path, X_OK) == 0 else {
            throw .invalidSetting("the server executable \(path) is missing or not executable")
        }
        return path
    }

    /// Ctrl-C / SIGTERM: stop the running server's process group too, then exit like Python
    /// (`128 + signal`).
    static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { received in
                let group = CurrentServer.group.load(ordering: .sequentiallyConsistent)
                if group > 0 { kill(-group, SIGTERM) }
                _exit(128 + received)
            }
        }
    }
}
