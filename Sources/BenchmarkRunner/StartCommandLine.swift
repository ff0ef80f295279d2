import ArgparseCompat

/// The `bert-serving-start` command line for one run: every server setting of the benchmark's
/// namespace that differs from the start parser's default, plus the run's override.
///
/// The original builds `BertServer(cargs)` in-process from the same namespace; we start the
/// server binary instead, so the namespace has to survive a trip through argv. Single values use
/// the `-option=value` form so that values starting with `-` stay values.
public enum StartCommandLine {
    /// - Parameters:
    ///   - arguments: the benchmark's namespace.
    ///   - override: `setattr(cargs, dest, value)` for this run (ignored when not a server option).
    ///   - spec: the server's parser.
    /// - Returns: argv without the program name.
    public static func arguments(
        from arguments: ParsedArguments, override: (dest: String, value: ParsedValue)?,
        spec: ParserSpec = .start
    ) -> [String] {
        var argv: [String] = []
        for option in spec.options {
            guard let flag = option.optionStrings.first else { continue }
            let value: ParsedValue
            if let override, override.dest == option.dest {
                value = override.value
            } else if let current = arguments[option.dest] {
                value = current
            } else {
                continue
            }
            if let defaultValue = option.defaultValue, defaultValue == value { continue }
            switch option.action {
            case .help, .version:
                continue
            case .storeTrue:
                if value == .bool(true) { argv.append(flag) }
            case .storeFalse:
                if value == .bool(false) { argv.append(flag) }
            case .storeConst(let constant):
                if value == constant { argv.append(flag) }
            case .store:
                switch option.nargs {
                case .single, .optional:
                    argv.append(flag + "=" + text(value))
                case .zero:
                    continue
                case .zeroOrMore, .oneOrMore, .exactly:
                    guard case .list(let items) = value, !(items.isEmpty && option.nargs == .oneOrMore) else { continue }
                    argv.append(flag)
                    argv.append(contentsOf: items.map(text))
                }
            }
        }
        return argv
    }

    /// How argparse reads the value back: `None` is `NONE` (`check_max_seq_len`), an enum its name.
    static func text(_ value: ParsedValue) -> String {
        switch value {
        case .none: return "NONE"
        case .float: return value.pythonRepr
        default: return value.pythonStr
        }
    }
}
