/// `BertClient._print_dict(server_config, 'server config:')`, which every benchmark client
/// prints once connected (`show_server_config=True`).
enum ServerConfigText {
    /// `server config:` then `'%30s\t=\t%-30s' % (k, v)` per key, in the reply's order; nil when
    /// the reply is not a JSON object.
    static func format(_ reply: [UInt8]) -> String? {
        guard case .object(let items) = OrderedJSON.parse(reply) else { return nil }
        var text = "server config:\n"
        for (key, value) in items {
            text += pad(key, 30, left: false) + "\t=\t" + pad(value.pythonStr, 30, left: true) + "\n"
        }
        return text
    }

    private static func pad(_ text: String, _ width: Int, left: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.unicodeScalars.count))
        return left ? text + fill : fill + text
    }
}
