import Testing

@testable import ArgparseCompat

/// Runs one golden case through our parser and returns (exit, stdout, stderr, namespace).
func run(_ c: Golden.Case, spec: ParserSpec) -> (Int32, String, String, ParsedArguments?) {
    let columns = c.columns.flatMap { ArgumentParser.columns(fromEnvironment: ["COLUMNS": $0]) }
    let parser = ArgumentParser(spec: spec, prog: basename(c.argv0), columns: columns)
    do {
        let parsed = try parser.parse(c.args)
        return (0, parsed.argumentTable(argv: [c.argv0] + c.args), "", parsed)
    } catch {
        return (error.exitCode, error.standardOutput, error.standardError, nil)
    }
}

/// Equality with the Python type, floats compared by `repr` (so `nan` and `-0.0` count).
func sameValue(_ a: ParsedValue, _ b: ParsedValue) -> Bool {
    switch (a, b) {
    case (.float(let x), .float(let y)): return PythonText.repr(x) == PythonText.repr(y)
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy(sameValue)
    default: return a == b
    }
}

@Suite("Command lines against Python 3.7 argparse (golden)")
struct GoldenParseTests {
    @Test("every golden command line: exit status, stdout and stderr byte for byte")
    func outputsMatchOriginal() throws {
        let g = try golden.get()
        #expect(g.cases.count > 150)
        for c in g.cases {
            let spec = try #require(originalSpec(c.parser))
            let (exit, stdout, stderr, _) = run(c, spec: spec)
            #expect(Int(exit) == c.exit, "exit status of \(c.label)")
            #expect(stdout == c.stdout, "stdout of \(c.label)")
            if let exception = c.exception {
                // The original dies with a traceback; we print its last line.
                #expect(stderr == exception + "\n", "stderr of \(c.label)")
            } else {
                #expect(stderr == c.stderr, "stderr of \(c.label)")
            }
        }
    }

    @Test("parsed namespaces: same attributes, order and Python types as vars(args)")
    func namespacesMatchOriginal() throws {
        let g = try golden.get()
        var checked = 0
        for c in g.cases {
            guard let expected = c.namespace else { continue }
            let spec = try #require(originalSpec(c.parser))
            let (_, _, _, parsed) = run(c, spec: spec)
            let ours = try #require(parsed, "no namespace for \(c.label)")
            #expect(ours.items.map(\.dest) == expected.map(\.0), "attribute order of \(c.label)")
            for (dest, value) in expected {
                let mine = ours[dest]
                #expect(mine.map { sameValue($0, value) } == true, "\(dest) of \(c.label): \(String(describing: mine)) vs \(value)")
            }
            checked += 1
        }
        #expect(checked >= 80)
    }

    @Test("SHOW_CONFIG argument part: sorted keys, JSON types, pooling_strategy as int")
    func configJSONMatchesOriginal() throws {
        let g = try golden.get()
        var checked = 0
        for c in g.cases {
            guard let expected = c.statusArgsJSON else { continue }
            let spec = try #require(originalSpec(c.parser))
            let (_, _, _, parsed) = run(c, spec: spec)
            let ours = try #require(parsed, "no namespace for \(c.label)")
            #expect(ours.configJSON == expected, "status_args of \(c.label)")
            checked += 1
        }
        #expect(checked >= 80)
    }

    @Test("help output of the three parsers, COLUMNS unset", arguments: ["start", "benchmark", "terminate"])
    func helpMatchesOriginal(parser name: String) throws {
        let g = try golden.get()
        let c = try #require(g.cases.first { $0.parser == name && $0.args == ["-h"] && $0.columns == nil })
        let parser = ArgumentParser(spec: try #require(originalSpec(name)), prog: basename(c.argv0))
        #expect(parser.formatHelp() == c.stdout)
        #expect(c.stdout.hasPrefix("usage: bert-serving-"))
        #expect(c.stdout.contains("optional arguments:"))
    }
}
