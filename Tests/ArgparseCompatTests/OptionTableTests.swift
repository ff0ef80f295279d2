import Testing

@testable import ArgparseCompat

@Suite("Option tables against the original parser definitions")
struct OptionTableTests {
    static func nargsName(_ nargs: Nargs) -> String {
        switch nargs {
        case .zero: return "0"
        case .single: return "None"
        case .optional: return "?"
        case .zeroOrMore: return "*"
        case .oneOrMore: return "+"
        case .exactly(let n): return String(n)
        }
    }

    static func kindName(_ action: OptionAction) -> String {
        switch action {
        case .store: return "_StoreAction"
        case .storeConst: return "_StoreConstAction"
        case .storeTrue: return "_StoreTrueAction"
        case .storeFalse: return "_StoreFalseAction"
        case .help: return "_HelpAction"
        case .version: return "_VersionAction"
        }
    }

    @Test("every add_argument: strings, dest, action, nargs, default, type, choices, required, help, group",
          arguments: ["start", "benchmark", "terminate"])
    func actionsMatch(parser name: String) throws {
        let g = try golden.get()
        let expected = try #require(g.parsers[name])
        let spec = try #require(originalSpec(name))
        #expect(spec.description == expected.description)
        #expect(spec.actions.count == expected.actions.count)
        for (ours, theirs) in zip(spec.actions, expected.actions) {
            let label = theirs.optionStrings.joined(separator: "/")
            #expect(ours.optionStrings == theirs.optionStrings, "\(label)")
            #expect(ours.dest == theirs.dest, "\(label)")
            #expect(Self.kindName(ours.action) == theirs.kind, "\(label)")
            #expect(Self.nargsName(ours.nargs) == theirs.nargs, "\(label)")
            #expect(ours.storesValue ? ours.defaultValue == theirs.defaultValue : theirs.defaultValue == nil, "\(label)")
            let storeType = ours.action == .store ? ours.type?.name : nil
            #expect(storeType == theirs.type, "\(label)")
            #expect(ours.choices?.map(\.pythonStr) == theirs.choices, "\(label)")
            #expect(ours.required == theirs.required, "\(label)")
            #expect(ours.help.map(HelpFormatter.normalizeWhitespace) == theirs.help.map(HelpFormatter.normalizeWhitespace), "\(label)")
            #expect((ours.group ?? "optional arguments") == theirs.group, "\(label)")
        }
        let groups = [("positional arguments", nil), ("optional arguments", nil)] + spec.groups.map { ($0.title, $0.description) }
        #expect(groups.map(\.0) == expected.groups.map(\.0))
        #expect(groups.map(\.1) == expected.groups.map(\.1))
        #expect(spec.extraDefaults.map(\.dest) == expected.extraDefaults.map(\.0))
        #expect(spec.extraDefaults.map(\.value) == expected.extraDefaults.map(\.1))
    }

    @Test("version text is '%(prog)s 1.10.0'")
    func versionText() throws {
        let parser = ArgumentParser(spec: .originalStart, prog: "bert-serving-start")
        #expect(throws: ArgparseError.versionRequested(output: "bert-serving-start 1.10.0\n")) {
            try parser.parse(["-version"])
        }
    }
}
