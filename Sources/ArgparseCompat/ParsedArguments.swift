/// An argparse `Namespace`: values by `dest`, in `vars(args)` order (the order in which
/// `parse_known_args` first set them: action defaults in `add_argument` order, then
/// `set_defaults` extras).
public struct ParsedArguments: Sendable, Equatable {
    /// `vars(args).items()` in insertion order.
    public private(set) var items: [(dest: String, value: ParsedValue)]

    /// Hidden options left at their defaults: not printed by `argumentTable(argv:)`.
    var unlistedDests: Set<String> = []

    init() { items = [] }

    /// The value of `dest`, or nil when the namespace has no such attribute.
    public subscript(dest: String) -> ParsedValue? {
        items.first { PythonText.same($0.dest, dest) }?.value
    }

    /// `hasattr(namespace, dest)`.
    public func contains(_ dest: String) -> Bool { self[dest] != nil }

    /// `setattr(namespace, dest, value)`: replaces in place, or appends a new attribute.
    mutating func set(_ dest: String, _ value: ParsedValue) {
        if let index = items.firstIndex(where: { PythonText.same($0.dest, dest) }) {
            items[index].value = value
        } else {
            items.append((dest, value))
        }
    }

    /// Items sorted by `dest` the way Python sorts `str` keys (by code point).
    public var sortedItems: [(dest: String, value: ParsedValue)] {
        items.sorted { a, b in
            a.dest.unicodeScalars.lexicographicallyPrecedes(b.dest.unicodeScalars) { $0.value < $1.value }
        }
    }

    /// The argument table `helper.get_run_args` prints to stdout (including the blank line that
    /// `print` adds): `usage: <argv joined by spaces>`, `ARG   VALUE`, 50 underscores, then one
    /// `'%20s = %s'` row per attribute sorted by name.
    /// - Parameter argv: the full process argv, `argv[0]` included, as `sys.argv`.
    public func argumentTable(argv: [String]) -> String {
        func rightAligned(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - PythonText.length(text))) + text
        }
        let rows = sortedItems.filter { !unlistedDests.contains($0.dest) }
            .map { rightAligned($0.dest, 20) + " = " + $0.value.pythonStr }
        return "usage: " + argv.joined(separator: " ") + "\n" + rightAligned("ARG", 20) + "   VALUE\n"
            + String(repeating: "_", count: 50) + "\n" + rows.joined(separator: "\n") + "\n\n"
    }

    /// The arguments as the original server's SHOW_CONFIG / SHOW_STATUS reply contains them:
    /// `BertServer.status_args`, i.e. `sorted(vars(args).items())` with `pooling_strategy` (an
    /// enum) replaced by its integer value. Serialise each value with `ParsedValue.jsonText`.
    ///
    /// The reply is `{**status_runtime, **status_args, **status_static}`: a key already present
    /// in the runtime part (`device_map`) keeps the runtime position but takes this value.
    public var orderedConfigItems: [(key: String, value: ParsedValue)] {
        sortedItems.map { item in
            if case .enumMember(let member) = item.value { return (item.dest, .int(member.value)) }
            return (item.dest, item.value)
        }
    }

    /// `json.dumps(dict(orderedConfigItems))` as pyzmq's `jsonapi.dumps` writes it.
    public var configJSON: String {
        "{" + orderedConfigItems.map { PythonText.jsonString($0.key) + ": " + $0.value.jsonText }
            .joined(separator: ", ") + "}"
    }

    public static func == (lhs: ParsedArguments, rhs: ParsedArguments) -> Bool {
        lhs.items.count == rhs.items.count
            && zip(lhs.items, rhs.items).allSatisfy { PythonText.same($0.dest, $1.dest) && $0.value == $1.value }
    }
}
