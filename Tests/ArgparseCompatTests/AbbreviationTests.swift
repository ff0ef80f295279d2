import Testing

@testable import ArgparseCompat

/// Compares how `parser` classifies every golden prefix of an original option string with
/// Python's `_parse_optional`; returns one line per difference.
func abbreviationDifferences(_ parser: ArgumentParser, _ expected: Golden.Parser) -> [String] {
    var differences: [String] = []
    for (prefix, resolution) in expected.prefixes.sorted(by: { $0.key < $1.key }) {
        let ours: Golden.Resolution
        do {
            switch try parser.resolve(prefix) {
            case .positional: ours = .positional
            case .option(let dest, let optionString, let explicit):
                ours = .option(dest: dest, optionString: optionString, explicit: explicit)
            }
        } catch {
            ours = .error(error.standardError)
        }
        if ours != resolution { differences.append("\(prefix): ours \(ours), original \(resolution)") }
    }
    return differences
}

@Suite("Abbreviations (allow_abbrev) against Python 3.7 _parse_optional")
struct AbbreviationTests {
    @Test("every prefix of every option string (and prefix=v) resolves like the original",
          arguments: ["start", "benchmark", "terminate"])
    func originalPrefixes(parser name: String) throws {
        let expected = try #require(try golden.get().parsers[name])
        #expect(expected.prefixes.count > 50)
        let parser = ArgumentParser(spec: try #require(originalSpec(name)), prog: expected.prog)
        let differences = abbreviationDifferences(parser, expected)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    /// Our own flags must never change what an original abbreviation means: not even the text of
    /// an `ambiguous option` error (scripts in the wild use `-num_w`, `-port_o`, `-cased_t`).
    @Test("options bert-serving-swift adds keep every original abbreviation",
          arguments: ["start", "benchmark", "terminate"])
    func extensionsKeepOriginalAbbreviations(parser name: String) throws {
        let expected = try #require(try golden.get().parsers[name])
        let parser = ArgumentParser(spec: try #require(shippedSpec(name)), prog: expected.prog)
        let differences = abbreviationDifferences(parser, expected)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    @Test("the check above catches a flag that shadows an original prefix")
    func shadowingFlagIsDetected() throws {
        let expected = try #require(try golden.get().parsers["start"])
        var spec = ParserSpec.originalStart
        spec.options.append(.store(["-num_workers_max"], type: .int, help: "hypothetical"))
        let differences = abbreviationDifferences(ArgumentParser(spec: spec, prog: expected.prog), expected)
        #expect(differences.contains { $0.hasPrefix("-num_w:") })
        #expect(differences.contains { $0.hasPrefix("-num:") })
    }

    @Test("successful golden command lines parse to the same values with the shipped parsers")
    func extensionsKeepOriginalValues() throws {
        let g = try golden.get()
        for c in g.cases {
            guard let expected = c.namespace else { continue }
            let parser = ArgumentParser(spec: try #require(shippedSpec(c.parser)), prog: basename(c.argv0))
            let ours: ParsedArguments
            do { ours = try parser.parse(c.args) } catch {
                Issue.record("\(c.label) fails with the shipped parser: \(error)")
                continue
            }
            for (dest, value) in expected {
                #expect(ours[dest].map { sameValue($0, value) } == true, "\(dest) of \(c.label)")
            }
        }
    }
}
