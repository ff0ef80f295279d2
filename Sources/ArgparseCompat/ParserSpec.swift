/// An `add_argument_group(title, description)` call.
public struct ArgumentGroupSpec: Sendable, Hashable {
    /// The section heading in `-h`.
    public var title: String
    /// The paragraph under the heading.
    public var description: String?

    /// Creates a group.
    public init(title: String, description: String?) {
        self.title = title
        self.description = description
    }
}

/// The definition of one `argparse.ArgumentParser` (optional arguments only, prefix char `-`,
/// `add_help=True`, `allow_abbrev=True`, the default `HelpFormatter`).
public struct ParserSpec: Sendable {
    /// `description=`.
    public var description: String?
    /// User groups in creation order; they follow `optional arguments` in `-h`.
    public var groups: [ArgumentGroupSpec]
    /// Options in `add_argument` order (which is usage order and namespace order), without the
    /// automatic `-h/--help`.
    public var options: [OptionSpec]
    /// `parser.set_defaults(...)` entries that match no option, in call order.
    public var extraDefaults: [(dest: String, value: ParsedValue)]

    /// Creates a parser definition.
    public init(
        description: String?, groups: [ArgumentGroupSpec] = [], options: [OptionSpec],
        extraDefaults: [(dest: String, value: ParsedValue)] = []
    ) {
        self.description = description
        self.groups = groups
        self.options = options
        self.extraDefaults = extraDefaults
    }

    /// The automatic `-h, --help` that `ArgumentParser(add_help=True)` adds first.
    static let helpOption = OptionSpec.flag(
        ["-h", "--help"], dest: "help", action: .help, help: "show this help message and exit")

    /// All actions in `parser._actions` order: `-h/--help` first, then `options`.
    var actions: [OptionSpec] { [Self.helpOption] + options }
}
