import Testing
@testable import ArgparseCompat

/// The shipped parsers print the original's argument table for every original command line: our
/// own hidden options appear only when the command line gives them.
@Test(arguments: [(ParserSpec.start, ParserSpec.originalStart, "bert-serving-start"),
                  (ParserSpec.benchmark, ParserSpec.originalBenchmark, "bert-serving-benchmark")])
func argumentTableListsOwnOptionsOnlyWhenGiven(shipped: ParserSpec, original: ParserSpec, prog: String) throws {
    let argv = [prog, "-model_dir", "/m", "-num_worker", "2"]
    let ours = try ArgumentParser(spec: shipped, prog: prog).parse(Array(argv.dropFirst()))
    let theirs = try ArgumentParser(spec: original, prog: prog).parse(Array(argv.dropFirst()))
    #expect(ours.argumentTable(argv: argv) == theirs.argumentTable(argv: argv))

    let withOwn = argv + ["-request_max_texts", "10"]
    let table = try ArgumentParser(spec: shipped, prog: prog).parse(Array(withOwn.dropFirst())).argumentTable(argv: withOwn)
    #expect(table.contains("   request_max_texts = 10\n"))
    #expect(!table.contains("request_timeout"))
}
