import Foundation

/// The sequences of one encode request: plain strings (`BertClient.encode(texts)`) or
/// pre-tokenized lists (`is_tokenized=True`). The worker tells them apart as the original does:
/// `all(isinstance(el, list) for el in msg)`.
public enum EncodePayload: Equatable, Sendable {
    case texts([String])
    case tokenized([[String]])

    /// Number of sequences.
    public var count: Int {
        switch self {
        case .texts(let t): t.count
        case .tokenized(let t): t.count
        }
    }

    /// Sequences `range` as a payload of the same kind (the ventilator's partial jobs).
    public func slice(_ range: Range<Int>) -> EncodePayload {
        switch self {
        case .texts(let t): .texts(Array(t[range]))
        case .tokenized(let t): .tokenized(Array(t[range]))
        }
    }

    /// The JSON the client would have sent for these sequences.
    public func json() -> [UInt8] {
        switch self {
        case .texts(let t): PyJSON.array(t.map { .string($0) }).dumps()
        case .tokenized(let t): PyJSON.array(t.map { .array($0.map { .string($0) }) }).dumps()
        }
    }

    /// The limits checked before a payload is parsed: refusing costs no parsing memory or time.
    /// - Throws: `WireError.messageTooLarge`, `.tooManyTexts`.
    public static func checkLimits(payloadBytes: Int, declaredCount: Int, maxBytes: Int, maxCount: Int) throws(WireError) {
        if payloadBytes > maxBytes { throw .messageTooLarge(bytes: payloadBytes, limit: maxBytes) }
        if declaredCount > maxCount { throw .tooManyTexts(declared: declaredCount, limit: maxCount) }
    }

    /// Parses and checks a payload.
    /// - Parameter declaredCount: `msg_len`; the number of sequences must equal it.
    /// - Throws: `WireError.invalidJSON`, `.notStringList`, `.emptyList`, `.emptyString`, `.lengthMismatch`.
    public static func parse(_ bytes: [UInt8], declaredCount: Int?) throws(WireError) -> EncodePayload {
        let data = Data(bytes)
        let payload: EncodePayload
        if let texts = try? JSONDecoder().decode([String].self, from: data) {
            payload = .texts(texts)
        } else if let lists = try? JSONDecoder().decode([[String]].self, from: data) {
            payload = .tokenized(lists)
        } else {
            if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil {
                throw .invalidJSON("starts with \(WireError.show(Array(bytes.prefix(40))))")
            }
            throw .notStringList
        }
        if payload.count == 0 { throw .emptyList }
        if case .texts(let t) = payload, let i = t.firstIndex(of: "") {
            // read_examples skips "" (`if not line: continue`): the job would never complete.
            throw .emptyString(index: i)
        }
        if let declared = declaredCount, declared != payload.count {
            throw .lengthMismatch(declared: declared, actual: payload.count)
        }
        return payload
    }
}
