import Foundation
import Testing

@testable import ArgparseCompat

/// Resources/cli_golden.json, written by CompatTests/reference/gen_cli_golden.py from the
/// ORIGINAL parsers (Python 3.7.16 argparse, bert-serving-server 1.10.0).
struct Golden {
    struct Case {
        let parser: String
        let argv0: String
        let args: [String]
        let columns: String?
        let exit: Int
        let stdout: String
        let stderr: String
        let exception: String?
        /// `vars(args).items()`, typed.
        let namespace: [(String, ParsedValue)]?
        let statusArgsJSON: String?

        var label: String { "\(parser) \(args)" + (columns.map { " COLUMNS=\($0)" } ?? "") }
    }

    struct Action {
        let optionStrings: [String]
        let dest: String
        let kind: String
        let nargs: String
        let defaultValue: ParsedValue?
        let type: String?
        let choices: [String]?
        let required: Bool
        let help: String?
        let group: String?
    }

    enum Resolution: Equatable {
        case positional
        case option(dest: String?, optionString: String, explicit: String?)
        case error(String)
    }

    struct Parser {
        let prog: String
        let description: String?
        let groups: [(String, String?)]
        let extraDefaults: [(String, ParsedValue)]
        let actions: [Action]
        let optionStrings: [String]
        let prefixes: [String: Resolution]
    }

    let parsers: [String: Parser]
    let cases: [Case]

    struct Malformed: Error, CustomStringConvertible {
        let what: String
        var description: String { "cli_golden.json: \(what)" }
    }

    static func load() throws -> Golden {
        guard let url = Bundle.module.url(forResource: "cli_golden", withExtension: "json", subdirectory: "Resources") else {
            throw Malformed(what: "resource missing (regenerate with CompatTests/reference/gen_cli_golden.py)")
        }
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let parsers = root["parsers"] as? [String: Any], let cases = root["cases"] as? [[String: Any]]
        else { throw Malformed(what: "top level") }
        var parsed: [String: Parser] = [:]
        for (name, value) in parsers {
            guard let p = value as? [String: Any] else { throw Malformed(what: "parser \(name)") }
            parsed[name] = try parser(p)
        }
        return Golden(parsers: parsed, cases: try cases.map(testCase))
    }

    static func value(_ any: Any?) throws -> ParsedValue {
        guard let dict = any as? [String: Any], let (tag, payload) = dict.first, dict.count == 1 else {
            throw Malformed(what: "typed value \(String(describing: any))")
        }
        switch tag {
        case "none": return .none
        case "bool":
            guard let b = payload as? Bool else { break }
            return .bool(b)
        case "int":
            guard let i = (payload as? NSNumber)?.intValue else { break }
            return .int(i)
        case "float":
            guard let repr = payload as? String, let d = Double(repr) ?? PythonText.parseFloat(repr) else { break }
            return .float(d)
        case "str":
            guard let s = payload as? String else { break }
            return .string(s)
        case "enum":
            guard let parts = payload as? [Any], parts.count == 3, let type = parts[0] as? String,
                let name = parts[1] as? String, let v = (parts[2] as? NSNumber)?.intValue
            else { break }
            return .enumMember(EnumMember(typeName: type, name: name, value: v))
        case "list":
            guard let items = payload as? [Any] else { break }
            return .list(try items.map(value))
        default: break
        }
        throw Malformed(what: "typed value \(dict)")
    }

    private static func testCase(_ c: [String: Any]) throws -> Case {
        guard let parser = c["parser"] as? String, let argv0 = c["argv0"] as? String, let args = c["args"] as? [String],
            let exit = (c["exit"] as? NSNumber)?.intValue, let stdout = c["stdout"] as? String,
            let stderr = c["stderr"] as? String
        else { throw Malformed(what: "case \(c)") }
        var namespace: [(String, ParsedValue)]?
        if let items = c["namespace"] as? [[Any]] {
            namespace = try items.map { pair in
                guard pair.count == 2, let dest = pair[0] as? String else { throw Malformed(what: "namespace item") }
                return (dest, try value(pair[1]))
            }
        }
        return Case(
            parser: parser, argv0: argv0, args: args, columns: c["columns"] as? String, exit: exit, stdout: stdout,
            stderr: stderr, exception: c["exception"] as? String, namespace: namespace,
            statusArgsJSON: c["status_args_json"] as? String)
    }

    private static func parser(_ p: [String: Any]) throws -> Parser {
        guard let prog = p["prog"] as? String, let groups = p["groups"] as? [[String: Any]],
            let actions = p["actions"] as? [[String: Any]], let optionStrings = p["option_strings"] as? [String],
            let prefixes = p["prefixes"] as? [String: [String: Any]], let defaults = p["defaults"] as? [[Any]]
        else { throw Malformed(what: "parser") }
        var resolutions: [String: Resolution] = [:]
        for (prefix, r) in prefixes {
            if r["positional"] != nil {
                resolutions[prefix] = .positional
            } else if let error = r["error"] as? String {
                resolutions[prefix] = .error(error)
            } else if let optionString = r["option_string"] as? String {
                resolutions[prefix] = .option(
                    dest: r["dest"] as? String, optionString: optionString, explicit: r["explicit"] as? String)
            } else {
                throw Malformed(what: "prefix \(prefix)")
            }
        }
        return Parser(
            prog: prog, description: p["description"] as? String,
            groups: groups.map { ($0["title"] as? String ?? "", $0["description"] as? String) },
            extraDefaults: try defaults.map { pair in
                guard pair.count == 2, let dest = pair[0] as? String else { throw Malformed(what: "defaults") }
                return (dest, try value(pair[1]))
            },
            actions: try actions.map { a in
                guard let strings = a["option_strings"] as? [String], let dest = a["dest"] as? String,
                    let kind = a["kind"] as? String, let required = a["required"] as? Bool
                else { throw Malformed(what: "action \(a)") }
                let nargs: String
                if let n = a["nargs"] as? String { nargs = n } else if let n = (a["nargs"] as? NSNumber)?.intValue {
                    nargs = String(n)
                } else { nargs = "None" }
                let suppressed = a["suppress_default"] as? Bool ?? false
                return Action(
                    optionStrings: strings, dest: dest, kind: kind, nargs: nargs,
                    defaultValue: suppressed ? nil : try value(a["default"]), type: a["type"] as? String,
                    choices: a["choices"] as? [String], required: required, help: a["help"] as? String,
                    group: a["group"] as? String)
            },
            optionStrings: optionStrings, prefixes: resolutions)
    }
}

/// The golden file, loaded once for all tests.
let golden: Result<Golden, any Error> = Result { try Golden.load() }

/// The original 1.10.0 definition for a golden parser name.
func originalSpec(_ name: String) -> ParserSpec? {
    switch name {
    case "start": return .originalStart
    case "benchmark": return .originalBenchmark
    case "terminate": return .originalTerminate
    default: return nil
    }
}

/// The definition this package ships for a golden parser name.
func shippedSpec(_ name: String) -> ParserSpec? {
    switch name {
    case "start": return .start
    case "benchmark": return .benchmark
    case "terminate": return .terminate
    default: return nil
    }
}

/// `os.path.basename(sys.argv[0])`.
func basename(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
}
