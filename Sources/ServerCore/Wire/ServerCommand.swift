/// Port of `ServerCmd` (bert_serving/server/__init__.py): the command bytes of the wire protocol.
public enum ServerCommand: String, Sendable, CaseIterable {
    case terminate = "TERMINATION"
    case showConfig = "SHOW_CONFIG"
    case showStatus = "SHOW_STATUS"
    case newJob = "REGISTER"
    case dataToken = "TOKENS"
    case dataEmbed = "EMBEDDINGS"

    /// The command whose bytes equal `bytes` (`ServerCmd.is_valid`), or nil.
    public init?(bytes: [UInt8]) {
        guard bytes.count <= 11, let s = String(validating: bytes, as: UTF8.self) else { return nil }
        self.init(rawValue: s)
    }

    public var bytes: [UInt8] { Array(rawValue.utf8) }
}
