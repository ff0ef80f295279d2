/// Port of Python 3.7 `argparse.HelpFormatter` for parsers of optional arguments:
/// usage (with its wrapping), description, `optional arguments` and the user groups.
struct HelpFormatter {
    let prog: String
    /// `width` of the formatter: `$COLUMNS - 2`, 78 when unset.
    let width: Int
    let indentIncrement = 2
    var maxHelpPosition: Int { min(24, max(width - 20, indentIncrement * 2)) }

    private static func len(_ s: some StringProtocol) -> Int { PythonText.length(s) }
    private static func spaces(_ n: Int) -> String { String(repeating: " ", count: max(0, n)) }

    // MARK: - Usage

    /// `_metavar_formatter` + `_format_args`.
    static func formatArgs(_ option: OptionSpec) -> String {
        let metavar: String
        if let explicit = option.metavar {
            metavar = explicit
        } else if let choices = option.choices {
            metavar = "{" + choices.map(\.pythonStr).joined(separator: ",") + "}"
        } else {
            metavar = option.dest.uppercased()
        }
        switch option.nargs {
        case .zero, .single: return metavar
        case .optional: return "[\(metavar)]"
        case .zeroOrMore: return "[\(metavar) [\(metavar) ...]]"
        case .oneOrMore: return "\(metavar) [\(metavar) ...]"
        case .exactly(let n): return Array(repeating: metavar, count: n).joined(separator: " ")
        }
    }

    /// `_format_actions_usage` without mutually exclusive groups or positionals.
    static func actionsUsage(_ actions: [OptionSpec]) -> String {
        var parts: [String] = []
        for option in actions where !option.hidden {
            guard let first = option.optionStrings.first else { continue }
            var part = option.nargs == .zero ? first : "\(first) \(formatArgs(option))"
            if !option.required { part = "[\(part)]" }
            parts.append(part)
        }
        return cleanUsage(parts.joined(separator: " "))
    }

    /// The separator clean-up regexes at the end of `_format_actions_usage`.
    private static func cleanUsage(_ text: String) -> String {
        var s = Array(text.unicodeScalars)
        func isOpen(_ c: Unicode.Scalar) -> Bool { c == "[" || c == "(" }
        func isClose(_ c: Unicode.Scalar) -> Bool { c == "]" || c == ")" }
        // re.sub(r'([\[(]) ', r'\1', text)
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < s.count {
            out.append(s[i])
            if isOpen(s[i]), i + 1 < s.count, s[i + 1] == " " { i += 2 } else { i += 1 }
        }
        s = out
        // re.sub(r' ([\])])', r'\1', text)
        out = []
        i = 0
        while i < s.count {
            if s[i] == " ", i + 1 < s.count, isClose(s[i + 1]) { out.append(s[i + 1]); i += 2 } else { out.append(s[i]); i += 1 }
        }
        s = out
        // re.sub(r'[\[(] *[\])]', r'', text)
        out = []
        i = 0
        while i < s.count {
            if isOpen(s[i]) {
                var j = i + 1
                while j < s.count, s[j] == " " { j += 1 }
                if j < s.count, isClose(s[j]) { i = j + 1; continue }
            }
            out.append(s[i])
            i += 1
        }
        s = out
        // re.sub(r'\(([^|]*)\)', r'\1', text)
        out = []
        i = 0
        while i < s.count {
            if s[i] == "(" {
                var lastClose: Int?
                var j = i + 1
                while j < s.count, s[j] != "|" {
                    if s[j] == ")" { lastClose = j }
                    j += 1
                }
                if let close = lastClose {
                    out.append(contentsOf: s[(i + 1)..<close])
                    i = close + 1
                    continue
                }
            }
            out.append(s[i])
            i += 1
        }
        var result = String(String.UnicodeScalarView(out))
        while let f = result.unicodeScalars.first, PythonText.isSpace(f) { result.unicodeScalars.removeFirst() }
        while let l = result.unicodeScalars.last, PythonText.isSpace(l) { result.unicodeScalars.removeLast() }
        return result
    }

    /// `re.findall(r'\(.*?\)+(?=\s|$)|\[.*?\]+(?=\s|$)|\S+', text)`.
    static func usageParts(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        let n = s.count
        func boundary(_ q: Int) -> Bool { q == n || PythonText.isSpace(s[q]) || (q == n - 1 && s[q] == "\n") }
        func bracketed(_ i: Int, open: Unicode.Scalar, close: Unicode.Scalar) -> Int? {
            guard s[i] == open else { return nil }
            var p = i + 1
            while p < n {
                if s[p] == close {
                    var q = p
                    while q < n, s[q] == close { q += 1 }
                    if boundary(q) { return q }
                }
                if s[p] == "\n" { return nil }
                p += 1
            }
            return nil
        }
        var parts: [String] = []
        var i = 0
        while i < n {
            var end: Int? = bracketed(i, open: "(", close: ")") ?? bracketed(i, open: "[", close: "]")
            if end == nil, !PythonText.isSpace(s[i]) {
                var q = i
                while q < n, !PythonText.isSpace(s[q]) { q += 1 }
                end = q
            }
            if let e = end {
                parts.append(String(String.UnicodeScalarView(s[i..<e])))
                i = e
            } else {
                i += 1
            }
        }
        return parts
    }

    /// `_format_usage(None, actions, [], None)`: `usage: ...\n\n`.
    func usageSection(_ actions: [OptionSpec]) -> String {
        let prefix = "usage: "
        let actionUsage = Self.actionsUsage(actions)
        var usage = [prog, actionUsage].filter { !$0.isEmpty }.joined(separator: " ")
        let textWidth = width
        if Self.len(prefix) + Self.len(usage) > textWidth {
            let optParts = Self.usageParts(actionUsage)
            func getLines(_ parts: [String], _ indent: String, _ prefix: String?) -> [String] {
                var lines: [String] = []
                var line: [String] = []
                var lineLen = (prefix.map { Self.len($0) } ?? Self.len(indent)) - 1
                for part in parts {
                    if lineLen + 1 + Self.len(part) > textWidth, !line.isEmpty {
                        lines.append(indent + line.joined(separator: " "))
                        line = []
                        lineLen = Self.len(indent) - 1
                    }
                    line.append(part)
                    lineLen += Self.len(part) + 1
                }
                if !line.isEmpty { lines.append(indent + line.joined(separator: " ")) }
                if prefix != nil, let first = lines.first {
                    lines[0] = String(String.UnicodeScalarView(first.unicodeScalars.dropFirst(Self.len(indent))))
                }
                return lines
            }
            var lines: [String]
            if Double(Self.len(prefix) + Self.len(prog)) <= 0.75 * Double(textWidth) {
                let indent = Self.spaces(Self.len(prefix) + Self.len(prog) + 1)
                lines = optParts.isEmpty ? [prog] : getLines([prog] + optParts, indent, prefix)
            } else {
                let indent = Self.spaces(Self.len(prefix))
                // Without positionals, get_lines(opt_parts + pos_parts) is get_lines(opt_parts).
                lines = [prog] + getLines(optParts, indent, nil)
            }
            usage = lines.joined(separator: "\n")
        }
        return prefix + usage + "\n\n"
    }

    // MARK: - Text and actions

    /// `_whitespace_matcher.sub(' ', text).strip()`: ASCII whitespace runs become one space
    /// (`re.ASCII` `\s`), then `str.strip()` trims Unicode whitespace at both ends.
    static func normalizeWhitespace(_ text: String) -> String {
        var out: [Unicode.Scalar] = []
        var inRun = false
        for scalar in text.unicodeScalars {
            let asciiSpace = scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
                || scalar == "\u{0B}" || scalar == "\u{0C}"
            if asciiSpace {
                if !inRun { out.append(" ") }
                inRun = true
            } else {
                inRun = false
                out.append(scalar)
            }
        }
        var slice = out[...]
        while let f = slice.first, PythonText.isSpace(f) { slice.removeFirst() }
        while let l = slice.last, PythonText.isSpace(l) { slice.removeLast() }
        return String(String.UnicodeScalarView(slice))
    }

    /// `_format_text`: a paragraph filled at the current indent, followed by a blank line.
    func formatText(_ text: String, indent: Int) -> String {
        let expanded = text.contains("%(prog)") ? Self.percentFormat(text, ["prog": prog]) : text
        let textWidth = max(width - indent, 11)
        let pad = Self.spaces(indent)
        let lines = TextWrap.wrap(
            Self.normalizeWhitespace(expanded), width: textWidth, initialIndent: pad, subsequentIndent: pad)
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// Python `text % dict` for `%(name)s`, `%(name)r` and `%%`; unknown keys are kept verbatim.
    static func percentFormat(_ text: String, _ values: [String: String], reprs: [String: String] = [:]) -> String {
        var out = ""
        var rest = Substring(text)
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            let after = rest[rest.index(after: percent)...]
            if after.hasPrefix("%") {
                out += "%"
                rest = after.dropFirst()
            } else if after.hasPrefix("("), let close = after.firstIndex(of: ")"),
                close < after.endIndex, after.index(after: close) < after.endIndex
            {
                let key = String(after[after.index(after: after.startIndex)..<close])
                let conversion = after[after.index(after: close)]
                let value = conversion == "r" ? reprs[key] : values[key]
                if let value, conversion == "s" || conversion == "r" {
                    out += value
                    rest = after[after.index(close, offsetBy: 2)...]
                } else {
                    out += "%"
                    rest = after
                }
            } else {
                out += "%"
                rest = after
            }
        }
        return out + rest
    }

    /// `_format_action_invocation`.
    static func invocation(_ option: OptionSpec) -> String {
        if option.nargs == .zero { return option.optionStrings.joined(separator: ", ") }
        let args = formatArgs(option)
        return option.optionStrings.map { "\($0) \(args)" }.joined(separator: ", ")
    }

    /// `_expand_help`.
    func expandHelp(_ option: OptionSpec, help: String) -> String {
        guard help.contains("%") else { return help }
        var values: [String: String] = [
            "prog": prog, "dest": option.dest, "required": option.required ? "True" : "False",
            "metavar": option.metavar ?? "None", "help": help,
        ]
        var reprs: [String: String] = ["prog": PythonText.repr(prog), "dest": PythonText.repr(option.dest)]
        if let d = option.defaultValue {
            values["default"] = d.pythonStr
            reprs["default"] = d.pythonRepr
        }
        if let type = option.type { values["type"] = type.name }
        if let choices = option.choices { values["choices"] = choices.map(\.pythonStr).joined(separator: ", ") }
        return Self.percentFormat(help, values, reprs: reprs)
    }

    /// `_format_action` at indent 2 with the given help position.
    func formatAction(_ option: OptionSpec, helpPosition: Int, indent: Int) -> String {
        let helpWidth = max(width - helpPosition, 11)
        let actionWidth = helpPosition - indent - 2
        var header = Self.invocation(option)
        var indentFirst = 0
        if (option.help ?? "").isEmpty {
            return Self.spaces(indent) + header + "\n"
        } else if Self.len(header) <= actionWidth {
            header = Self.spaces(indent) + header + Self.spaces(actionWidth - Self.len(header)) + "  "
        } else {
            header = Self.spaces(indent) + header + "\n"
            indentFirst = helpPosition
        }
        let expanded = Self.normalizeWhitespace(expandHelp(option, help: option.help ?? ""))
        let lines = TextWrap.wrap(expanded, width: helpWidth)
        var out = header
        if let first = lines.first { out += Self.spaces(indentFirst) + first + "\n" } else { out += "\n" }
        for line in lines.dropFirst() { out += Self.spaces(helpPosition) + line + "\n" }
        return out
    }

    /// `ArgumentParser.format_help`.
    func formatHelp(_ spec: ParserSpec) -> String {
        let actions = spec.actions
        let visible = actions.filter { !$0.hidden }
        let sectionIndent = indentIncrement
        let maxLength = visible.map { Self.len(Self.invocation($0)) + sectionIndent }.max() ?? 0
        let helpPosition = min(maxLength + 2, maxHelpPosition)

        var out = usageSection(actions)
        if let description = spec.description { out += formatText(description, indent: 0) }
        var sections: [(String, String?, [OptionSpec])] = [
            ("optional arguments", nil, visible.filter { $0.group == nil })
        ]
        for group in spec.groups {
            sections.append((group.title, group.description, visible.filter { $0.group == group.title }))
        }
        for (title, description, members) in sections {
            var items = ""
            if let description { items += formatText(description, indent: sectionIndent) }
            for option in members { items += formatAction(option, helpPosition: helpPosition, indent: sectionIndent) }
            if items.isEmpty { continue }
            out += "\n" + title + ":\n" + items + "\n"
        }
        return Self.finish(out)
    }

    /// `format_usage`: the usage alone, as printed before an error.
    func formatUsage(_ spec: ParserSpec) -> String { Self.finish(usageSection(spec.actions)) }

    /// The `version` action's text.
    func formatVersion(_ version: String) -> String { Self.finish(formatText(version, indent: 0)) }

    /// `HelpFormatter.format_help`: collapse 3+ newlines, strip newlines, end with one.
    private static func finish(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        var collapsed: [Unicode.Scalar] = []
        var run = 0
        for s in scalars {
            if s == "\n" {
                run += 1
                if run <= 2 { collapsed.append(s) }
            } else {
                run = 0
                collapsed.append(s)
            }
        }
        scalars = collapsed
        while scalars.first == "\n" { scalars.removeFirst() }
        while scalars.last == "\n" { scalars.removeLast() }
        if scalars.isEmpty { return "" }
        return String(String.UnicodeScalarView(scalars)) + "\n"
    }
}
