/// Port of Python 3.7 `argparse.ArgumentParser.parse_args` for parsers made only of optional
/// arguments (the shape of all three bert-serving parsers): abbreviations, `-opt=value`,
/// negative-number-looking values, `--`, the error texts and their order, `-h` and `-version`.
///
/// Parsing is pure: it returns the namespace or throws an `ArgparseError` that carries the exact
/// stdout/stderr text and exit status; the caller prints and exits.
public struct ArgumentParser: Sendable {
    /// The parser definition.
    public let spec: ParserSpec
    /// `prog`: the basename of `argv[0]` in the original.
    public let prog: String
    /// Help formatter width: `$COLUMNS - 2`, or 78 when COLUMNS is unset.
    public let width: Int

    private let actions: [OptionSpec]
    /// `_option_string_actions` in insertion order.
    private let optionStrings: [(string: String, action: Int)]

    /// Creates a parser.
    /// - Parameters:
    ///   - spec: the option table.
    ///   - prog: the program name shown in usage and errors.
    ///   - columns: the terminal width argparse reads from `$COLUMNS` (nil: unset → 80).
    public init(spec: ParserSpec, prog: String, columns: Int? = nil) {
        self.spec = spec
        self.prog = prog
        self.width = (columns ?? 80) - 2
        self.actions = spec.actions
        var strings: [(String, Int)] = []
        for (index, action) in actions.enumerated() {
            for option in action.optionStrings {
                precondition(option.unicodeScalars.first == "-", "option string \(option) must start with '-'")
                precondition(
                    !strings.contains { PythonText.same($0.0, option) }, "conflicting option string: \(option)")
                strings.append((option, index))
            }
        }
        self.optionStrings = strings.map { (string: $0.0, action: $0.1) }
    }

    /// `os.path.basename(argv0)`: argparse's default `prog` (`sys.argv[0]`).
    public static func programName(argv0: String) -> String {
        let scalars = Array(argv0.unicodeScalars)
        guard let slash = scalars.lastIndex(of: "/") else { return argv0 }
        return String(String.UnicodeScalarView(scalars[(slash + 1)...]))
    }

    /// A parser the way a console script builds it: `prog` from `argv[0]`, width from `COLUMNS`.
    public init(spec: ParserSpec, argv0: String, environment: [String: String]) {
        self.init(spec: spec, prog: Self.programName(argv0: argv0), columns: Self.columns(fromEnvironment: environment))
    }

    /// argparse's width source: `int(os.environ['COLUMNS'])`, nil when unset or not an int.
    public static func columns(fromEnvironment environment: [String: String]) -> Int? {
        environment["COLUMNS"].flatMap(PythonText.parseInt)
    }

    /// `parser.format_help()`.
    public func formatHelp() -> String { formatter.formatHelp(spec) }

    /// `parser.format_usage()`.
    public func formatUsage() -> String { formatter.formatUsage(spec) }

    private var formatter: HelpFormatter { HelpFormatter(prog: prog, width: width) }

    // MARK: - Errors

    /// `ArgumentError(action, message)`, before it is turned into `parser.error`.
    private struct ArgumentError: Error {
        let action: Int?
        let message: String
    }

    private enum Failure: Error {
        case argument(ArgumentError)
        case exit(ArgparseError)
    }

    /// `parser.error(message)`.
    private func error(_ message: String) -> ArgparseError {
        .usage(message: message, output: formatUsage() + "\(prog): error: \(message)\n")
    }

    /// `str(ArgumentError)`: `argument -a/-b: message`.
    private func describe(_ failure: ArgumentError) -> String {
        guard let index = failure.action else { return failure.message }
        return "argument \(actions[index].optionStrings.joined(separator: "/")): \(failure.message)"
    }

    // MARK: - Parsing

    /// `parser.parse_args(args)`.
    /// - Parameter args: the command line without the program name (`sys.argv[1:]`).
    /// - Throws: `ArgparseError` for `-h`, `-version`, and every usage error.
    public func parse(_ args: [String]) throws(ArgparseError) -> ParsedArguments {
        let namespace: ParsedArguments
        let extras: [String]
        do {
            (namespace, extras) = try parseKnownArgs(args)
        } catch {
            switch error {
            case .argument(let argumentError): throw self.error(describe(argumentError))
            case .exit(let exit): throw exit
            }
        }
        if !extras.isEmpty { throw error("unrecognized arguments: " + extras.joined(separator: " ")) }
        return namespace
    }

    private enum Match {
        case positional
        case option(action: Int?, optionString: String, explicit: String?)
    }

    /// How `_parse_optional` classifies one command-line string.
    enum OptionResolution: Equatable {
        /// A value (argparse pattern letter `A`).
        case positional
        /// An option (`O`): the action's dest (nil for an unknown option), the option string
        /// matched and the explicit `=value` / glued value.
        case option(dest: String?, optionString: String, explicit: String?)
    }

    /// `_parse_optional(arg)`; throws the `ambiguous option` usage error.
    func resolve(_ arg: String) throws(ArgparseError) -> OptionResolution {
        switch try parseOptional(arg) {
        case .positional: return .positional
        case .option(let action, let optionString, let explicit):
            return .option(dest: action.map { actions[$0].dest }, optionString: optionString, explicit: explicit)
        }
    }

    /// `_negative_number_matcher`: `^-\d+$|^-\d*\.\d+$` (`$` also before a final newline).
    static func looksLikeNegativeNumber(_ text: String) -> Bool {
        var s = Array(text.unicodeScalars)
        func matches(_ s: [Unicode.Scalar]) -> Bool {
            guard s.first == "-", s.count > 1 else { return false }
            let body = s.dropFirst()
            if body.allSatisfy({ PythonText.decimalValue($0) != nil }) { return true }
            guard let dot = body.firstIndex(of: ".") else { return false }
            let before = body[body.startIndex..<dot]
            let after = body[(dot + 1)...]
            return before.allSatisfy { PythonText.decimalValue($0) != nil } && !after.isEmpty
                && after.allSatisfy { PythonText.decimalValue($0) != nil }
        }
        if matches(s) { return true }
        if s.last == "\n" {
            s.removeLast()
            return matches(s)
        }
        return false
    }

    private func exactAction(_ option: some StringProtocol) -> Int? {
        optionStrings.first { PythonText.same($0.string, option) }?.action
    }

    /// `_parse_optional`.
    private func parseOptional(_ arg: String) throws(ArgparseError) -> Match {
        let scalars = Array(arg.unicodeScalars)
        guard let first = scalars.first, first == "-" else { return .positional }
        if let action = exactAction(arg) { return .option(action: action, optionString: arg, explicit: nil) }
        if scalars.count == 1 { return .positional }
        if let eq = scalars.firstIndex(of: "=") {
            let option = String(String.UnicodeScalarView(scalars[..<eq]))
            let explicit = String(String.UnicodeScalarView(scalars[(eq + 1)...]))
            if let action = exactAction(option) { return .option(action: action, optionString: option, explicit: explicit) }
        }
        let tuples = optionTuples(scalars)
        if tuples.count > 1 {
            let matches = tuples.map(\.optionString).joined(separator: ", ")
            throw error("ambiguous option: \(arg) could match \(matches)")
        } else if let only = tuples.first {
            return .option(action: only.action, optionString: only.optionString, explicit: only.explicit)
        }
        // No option has negative-number-like strings, so `-4` / `-.5` are values.
        let hasNegativeNumberOptionals = optionStrings.contains { Self.looksLikeNegativeNumber($0.string) }
        if Self.looksLikeNegativeNumber(arg), !hasNegativeNumberOptionals { return .positional }
        if scalars.contains(" ") { return .positional }
        return .option(action: nil, optionString: arg, explicit: nil)
    }

    /// `_get_option_tuples`: every option the string abbreviates, in option-string order.
    private func optionTuples(_ scalars: [Unicode.Scalar]) -> [(action: Int, optionString: String, explicit: String?)] {
        var result: [(Int, String, String?)] = []
        if scalars.count >= 2, scalars[1] == "-" {
            // Two prefix chars: only split at '='.
            var prefix = scalars[...]
            var explicit: String?
            if let eq = scalars.firstIndex(of: "=") {
                prefix = scalars[..<eq]
                explicit = String(String.UnicodeScalarView(scalars[(eq + 1)...]))
            }
            for (option, action) in optionStrings where option.unicodeScalars.starts(with: prefix) {
                result.append((action, option, explicit))
            }
        } else {
            // Single prefix char: a two-char option may be glued to its value (`-hx`).
            let shortPrefix = scalars.prefix(2)
            let shortExplicit = String(String.UnicodeScalarView(scalars.dropFirst(2)))
            for (option, action) in optionStrings {
                if option.unicodeScalars.elementsEqual(shortPrefix) {
                    result.append((action, option, shortExplicit))
                } else if option.unicodeScalars.starts(with: scalars) {
                    result.append((action, option, nil))
                }
            }
        }
        return result.map { (action: $0.0, optionString: $0.1, explicit: $0.2) }
    }

    /// How many of the following strings (pattern letters `A`) the action takes; throws the
    /// `expected ...` error when they do not fit (`_match_argument` on an optional's pattern).
    private func matchArgument(_ actionIndex: Int, available: Int) throws(Failure) -> Int {
        switch actions[actionIndex].nargs {
        case .zero: return 0
        case .single:
            guard available >= 1 else { throw .argument(ArgumentError(action: actionIndex, message: "expected one argument")) }
            return 1
        case .optional: return min(available, 1)
        case .zeroOrMore: return available
        case .oneOrMore:
            guard available >= 1 else {
                throw .argument(ArgumentError(action: actionIndex, message: "expected at least one argument"))
            }
            return available
        case .exactly(let n):
            guard available >= n else {
                let message = n == 1 ? "expected 1 argument" : "expected \(n) arguments"
                throw .argument(ArgumentError(action: actionIndex, message: message))
            }
            return n
        }
    }

    /// `_get_value`.
    private func convert(_ actionIndex: Int, _ text: String) throws(Failure) -> ParsedValue {
        guard let type = actions[actionIndex].type else { return .string(text) }
        do {
            return try type.convert(text)
        } catch {
            switch error {
            case .invalidValue:
                let message = "invalid \(type.name) value: \(PythonText.repr(text))"
                throw .argument(ArgumentError(action: actionIndex, message: message))
            case .message(let message):
                throw .argument(ArgumentError(action: actionIndex, message: message))
            }
        }
    }

    /// `_check_value`.
    private func check(_ actionIndex: Int, _ value: ParsedValue) throws(Failure) {
        guard let choices = actions[actionIndex].choices else { return }
        if choices.contains(where: { $0.pythonEquals(value) }) { return }
        let list = choices.map(\.pythonRepr).joined(separator: ", ")
        let message = "invalid choice: \(value.pythonRepr) (choose from \(list))"
        throw .argument(ArgumentError(action: actionIndex, message: message))
    }

    /// `_get_values`.
    private func values(_ actionIndex: Int, _ strings: [String]) throws(Failure) -> ParsedValue {
        var strings = strings
        if let dashes = strings.firstIndex(where: { PythonText.same($0, "--") }) { strings.remove(at: dashes) }
        let action = actions[actionIndex]
        if strings.isEmpty, action.nargs == .optional {
            var value = action.const
            if case .string(let text) = value {
                value = try convert(actionIndex, text)
                try check(actionIndex, value)
            }
            return value
        }
        if strings.count == 1, action.nargs == .single || action.nargs == .optional {
            let value = try convert(actionIndex, strings[0])
            try check(actionIndex, value)
            return value
        }
        var list: [ParsedValue] = []
        for text in strings { list.append(try convert(actionIndex, text)) }
        for value in list { try check(actionIndex, value) }
        return .list(list)
    }

    /// `parse_known_args` + `_parse_known_args`.
    private func parseKnownArgs(_ args: [String]) throws(Failure) -> (ParsedArguments, [String]) {
        var namespace = ParsedArguments()
        var untouchedDefault = Set<String>()
        for action in actions where action.storesValue {
            if let value = action.defaultValue, !namespace.contains(action.dest) {
                namespace.set(action.dest, value)
                untouchedDefault.insert(action.dest)
            }
        }
        for (dest, value) in spec.extraDefaults where !namespace.contains(dest) { namespace.set(dest, value) }

        // Classify every string: 'O' option, 'A' argument; everything after '--' is 'A' (the
        // '--' itself is '-', never consumed by an optional).
        var pattern: [Character] = []
        var optionAt: [Int: Match] = [:]
        var afterDashes = false
        for (i, arg) in args.enumerated() {
            if afterDashes { pattern.append("A"); continue }
            if PythonText.same(arg, "--") { pattern.append("-"); afterDashes = true; continue }
            let match: Match
            do { match = try parseOptional(arg) } catch { throw .exit(error) }
            if case .positional = match { pattern.append("A") } else { pattern.append("O"); optionAt[i] = match }
        }

        var seen = Set<Int>()
        var extras: [String] = []

        func takeAction(_ index: Int, _ strings: [String]) throws(Failure) {
            seen.insert(index)
            let value = try values(index, strings)
            let action = actions[index]
            switch action.action {
            case .store: namespace.set(action.dest, value)
            case .storeConst(let constant): namespace.set(action.dest, constant)
            case .storeTrue: namespace.set(action.dest, .bool(true))
            case .storeFalse: namespace.set(action.dest, .bool(false))
            case .help: throw .exit(.helpRequested(output: formatHelp()))
            case .version(let text):
                throw .exit(.versionRequested(output: formatter.formatVersion(text)))
            }
            untouchedDefault.remove(action.dest)
        }

        func leadingArguments(from start: Int) -> Int {
            var count = 0
            while start + count < pattern.count, pattern[start + count] == "A" { count += 1 }
            return count
        }

        /// `consume_optional`.
        func consumeOptional(_ start: Int) throws(Failure) -> Int {
            guard case .option(var action, var optionString, var explicit) = optionAt[start] else { return start + 1 }
            var tuples: [(Int, [String])] = []
            var stop = start + 1
            while true {
                guard let index = action else {
                    extras.append(args[start])
                    return start + 1
                }
                if let explicitArg = explicit {
                    let count = try matchArgument(index, available: 1)
                    let second = optionString.unicodeScalars.dropFirst().first
                    if count == 0, second != "-" {
                        // A single-dash flag followed by more single-char flags (`-xyz`).
                        tuples.append((index, []))
                        guard let firstChar = explicitArg.unicodeScalars.first else {
                            // `option_string[0] + explicit_arg[0]` on an empty string.
                            throw .exit(.uncaughtException("IndexError: string index out of range"))
                        }
                        var next = String.UnicodeScalarView()
                        next.append("-")
                        next.append(firstChar)
                        optionString = String(next)
                        let rest = String(String.UnicodeScalarView(explicitArg.unicodeScalars.dropFirst()))
                        if let nextAction = exactAction(optionString) {
                            action = nextAction
                            explicit = rest.isEmpty ? nil : rest
                        } else {
                            let message = "ignored explicit argument \(PythonText.repr(explicitArg))"
                            throw .argument(ArgumentError(action: index, message: message))
                        }
                    } else if count == 1 {
                        stop = start + 1
                        tuples.append((index, [explicitArg]))
                        break
                    } else {
                        let message = "ignored explicit argument \(PythonText.repr(explicitArg))"
                        throw .argument(ArgumentError(action: index, message: message))
                    }
                } else {
                    let first = start + 1
                    let count = try matchArgument(index, available: leadingArguments(from: first))
                    stop = first + count
                    tuples.append((index, Array(args[first..<stop])))
                    break
                }
            }
            for (index, strings) in tuples { try takeAction(index, strings) }
            return stop
        }

        var start = 0
        let maxOptionIndex = optionAt.keys.max() ?? -1
        while start <= maxOptionIndex {
            guard let next = optionAt.keys.filter({ $0 >= start }).min() else { break }
            if start != next {
                extras.append(contentsOf: args[start..<next])
                start = next
            }
            start = try consumeOptional(start)
        }
        extras.append(contentsOf: args[min(start, args.count)...])

        var required: [String] = []
        for (index, action) in actions.enumerated() where !seen.contains(index) {
            if action.required {
                required.append(action.optionStrings.joined(separator: "/"))
            } else if case .string(let text)? = action.defaultValue, action.storesValue,
                untouchedDefault.contains(action.dest)
            {
                // A string default goes through `type` once parsing is done.
                namespace.set(action.dest, try convert(index, text))
            }
        }
        if !required.isEmpty {
            throw .exit(error("the following arguments are required: " + required.joined(separator: ", ")))
        }
        // Our own (hidden) options the command line did not give stay out of the argument table,
        // so it reads exactly as the original's for every original command line.
        namespace.unlistedDests = Set(actions.filter { $0.hidden && untouchedDefault.contains($0.dest) }.map(\.dest))
        return (namespace, extras)
    }
}
