/// How a conversion function rejects a command-line string (argparse `_get_value`).
public enum ArgumentTypeFailure: Error, Sendable, Equatable {
    /// `ValueError` / `TypeError`: argparse reports `invalid <type name> value: '<string>'`.
    case invalidValue
    /// `argparse.ArgumentTypeError(message)`: argparse reports the message verbatim.
    case message(String)
}

/// An argparse `type=` callable: its Python `__name__` (for error messages) and the conversion.
public struct ValueType: Sendable {
    /// The callable's `__name__`, as in `invalid int value: 'x'`.
    public var name: String
    /// Converts one command-line string.
    public var convert: @Sendable (String) throws(ArgumentTypeFailure) -> ParsedValue

    /// Creates a type from its Python name and conversion.
    public init(name: String, convert: @escaping @Sendable (String) throws(ArgumentTypeFailure) -> ParsedValue) {
        self.name = name
        self.convert = convert
    }

    /// `type=str`.
    public static let string = ValueType(name: "str") { .string($0) }

    /// `type=int` (Python `int()` rules).
    public static let int = ValueType(name: "int") { (text: String) throws(ArgumentTypeFailure) -> ParsedValue in
        guard let value = PythonText.parseInt(text) else { throw .invalidValue }
        return .int(value)
    }

    /// `type=float` (Python `float()` rules).
    public static let float = ValueType(name: "float") { (text: String) throws(ArgumentTypeFailure) -> ParsedValue in
        guard let value = PythonText.parseFloat(text) else { throw .invalidValue }
        return .float(value)
    }
}

/// argparse `nargs`.
public enum Nargs: Sendable, Hashable {
    /// `nargs=0` (the flag actions).
    case zero
    /// `nargs=None`: exactly one value, stored as a scalar.
    case single
    /// `nargs='?'`.
    case optional
    /// `nargs='*'`.
    case zeroOrMore
    /// `nargs='+'`.
    case oneOrMore
    /// `nargs=N`, stored as a list.
    case exactly(Int)
}

/// argparse `action=`.
public enum OptionAction: Sendable, Hashable {
    /// `store`: keeps the converted value(s).
    case store
    /// `store_const`: keeps `const`.
    case storeConst(ParsedValue)
    /// `store_true` (default `False`).
    case storeTrue
    /// `store_false` (default `True`).
    case storeFalse
    /// `help`: prints the help to stdout and exits 0.
    case help
    /// `version`: prints the version text (`%(prog)s` expanded) to stdout and exits 0.
    case version(String)
}

/// One `add_argument` call of an optional argument.
public struct OptionSpec: Sendable {
    /// Option strings in declaration order (`-port`, `-port_in`, `-port_data`).
    public var optionStrings: [String]
    /// The namespace attribute.
    public var dest: String
    /// The action.
    public var action: OptionAction
    /// How many values it consumes (forced to `.zero` for the flag actions).
    public var nargs: Nargs
    /// The conversion; nil stores the string unchanged (argparse's identity type).
    public var type: ValueType?
    /// The default; nil is `argparse.SUPPRESS` (no namespace entry).
    public var defaultValue: ParsedValue?
    /// The allowed values after conversion, shown as `{A,B}` in help.
    public var choices: [ParsedValue]?
    /// `required=True`.
    public var required: Bool
    /// The help text; nil shows the bare invocation, `hidden` leaves the option out of help.
    public var help: String?
    /// `help=argparse.SUPPRESS`: parsed but not listed by `-h` or in usage.
    public var hidden: Bool
    /// `metavar=`.
    public var metavar: String?
    /// `const=` for `nargs='?'` when the option is given without a value.
    public var const: ParsedValue
    /// The title of the argument group it belongs to; nil is `optional arguments`.
    public var group: String?

    /// A `store` option: `add_argument(*optionStrings, type=, nargs=, default=, ...)`.
    public static func store(
        _ optionStrings: [String], dest: String? = nil, type: ValueType?, nargs: Nargs = .single,
        default defaultValue: ParsedValue = .none, choices: [ParsedValue]? = nil, required: Bool = false,
        help: String?, hidden: Bool = false, metavar: String? = nil, const: ParsedValue = .none, group: String? = nil
    ) -> OptionSpec {
        OptionSpec(
            optionStrings: optionStrings, dest: dest ?? defaultDest(optionStrings), action: .store, nargs: nargs,
            type: type, defaultValue: defaultValue, choices: choices, required: required, help: help,
            hidden: hidden, metavar: metavar, const: const, group: group)
    }

    /// A flag: `store_true`, `store_false`, `store_const`, `help` or `version`.
    public static func flag(
        _ optionStrings: [String], dest: String? = nil, action: OptionAction, default defaultValue: ParsedValue? = nil,
        help: String?, hidden: Bool = false, group: String? = nil
    ) -> OptionSpec {
        let implied: ParsedValue?
        switch action {
        case .storeTrue: implied = .bool(false)
        case .storeFalse: implied = .bool(true)
        case .storeConst, .store: implied = ParsedValue.none
        case .help, .version: implied = nil
        }
        let destination = dest ?? defaultDest(optionStrings)
        return OptionSpec(
            optionStrings: optionStrings, dest: destination, action: action, nargs: .zero, type: nil,
            defaultValue: defaultValue ?? implied, choices: nil, required: false, help: help, hidden: hidden,
            metavar: nil, const: .none, group: group)
    }

    /// Whether the action writes to the namespace (`help`/`version` have `dest=SUPPRESS`).
    var storesValue: Bool {
        switch action {
        case .help, .version: return false
        default: return true
        }
    }

    /// argparse `_get_optional_kwargs`: the first long option (two prefix chars) or else the
    /// first option, without leading dashes, `-` replaced by `_`.
    static func defaultDest(_ optionStrings: [String]) -> String {
        let long = optionStrings.first { PythonText.hasPrefix($0, "--") } ?? optionStrings.first ?? ""
        var scalars = Substring(long).unicodeScalars[...]
        while scalars.first == "-" { scalars.removeFirst() }
        return String(String.UnicodeScalarView(scalars)).replacingOccurrences(of: "-", with: "_")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
