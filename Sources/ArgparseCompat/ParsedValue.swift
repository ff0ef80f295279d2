/// A member of a Python `Enum` stored in the namespace (e.g. `PoolingStrategy.REDUCE_MEAN`).
public struct EnumMember: Sendable, Hashable {
    /// The enum class name, used by `repr` (`PoolingStrategy`).
    public var typeName: String
    /// The canonical member name (aliases resolve to the first member with the value).
    public var name: String
    /// The member's integer value (`PoolingStrategy.REDUCE_MEAN.value == 2`).
    public var value: Int

    /// Creates a member description.
    public init(typeName: String, name: String, value: Int) {
        self.typeName = typeName
        self.name = name
        self.value = value
    }
}

/// A value of an argparse namespace, with the Python type it has in the original.
public enum ParsedValue: Sendable, Hashable {
    /// `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// A Python `int` (limited to `Int`).
    case int(Int)
    /// A Python `float`.
    case float(Double)
    /// A Python `str`.
    case string(String)
    /// A Python `Enum` member whose `__str__` is its name.
    case enumMember(EnumMember)
    /// A Python `list`.
    case list([ParsedValue])

    /// Python's `str(value)`, as `'%s' % value` prints it in the argument table.
    public var pythonStr: String {
        switch self {
        case .string(let s): return s
        case .enumMember(let m): return m.name
        default: return pythonRepr
        }
    }

    /// Python's `repr(value)`, as argparse's `%r` prints it in error messages.
    public var pythonRepr: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return PythonText.repr(d)
        case .string(let s): return PythonText.repr(s)
        case .enumMember(let m): return "<\(m.typeName).\(m.name): \(m.value)>"
        case .list(let items): return "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        }
    }

    /// The value as pyzmq's `jsonapi.dumps` writes it (`json.dumps`, `ensure_ascii`, `", "`).
    /// An enum member is written as its integer value, as the original's SHOW_CONFIG does for
    /// `pooling_strategy`.
    public var jsonText: String {
        switch self {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return PythonText.jsonNumber(d)
        case .string(let s): return PythonText.jsonString(s)
        case .enumMember(let m): return String(m.value)
        case .list(let items): return "[" + items.map(\.jsonText).joined(separator: ", ") + "]"
        }
    }

    /// Python `==` between values: numbers compare by value across bool/int/float.
    func pythonEquals(_ other: ParsedValue) -> Bool {
        func number(_ v: ParsedValue) -> Double? {
            switch v {
            case .bool(let b): return b ? 1 : 0
            case .int(let i): return Double(i)
            case .float(let d): return d
            default: return nil
            }
        }
        if let a = number(self), let b = number(other) { return a == b }
        switch (self, other) {
        case (.string(let a), .string(let b)): return PythonText.same(a, b)
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        default: return self == other
        }
    }
}
