/// Why a frame list from a client, or its payload, cannot be served.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A client message must have exactly 4 frames `[identity, payload, req_id, msg_len]`.
    case wrongFrameCount(Int)
    /// Frame 0 is empty: there is nobody to reply to.
    case emptyIdentity
    /// Frame 2 is not ASCII digits (`req_id.isdigit()` in the original).
    case badRequestID([UInt8])
    /// Frame 3 is not ASCII digits.
    case badMessageLength([UInt8])
    /// The payload is not JSON (with the parser's reason).
    case invalidJSON(String)
    /// The payload is JSON but neither a list of strings nor a list of lists of strings.
    case notStringList
    /// The payload is an empty list.
    case emptyList
    /// Element `index` is the empty string, which the original worker silently skips.
    case emptyString(index: Int)
    /// `msg_len` differs from the number of sentences in the payload.
    case lengthMismatch(declared: Int, actual: Int)
    /// The payload frame is larger than `-request_max_message_bytes` (checked before parsing).
    case messageTooLarge(bytes: Int, limit: Int)
    /// `msg_len` is above `-request_max_texts` (checked before parsing).
    case tooManyTexts(declared: Int, limit: Int)

    /// True when no reply can be addressed (the original drops these too).
    public var isUnanswerable: Bool {
        switch self {
        case .wrongFrameCount, .emptyIdentity, .badRequestID: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .wrongFrameCount(let n): "expected 4 frames [identity, payload, req_id, msg_len], got \(n)"
        case .emptyIdentity: "frame 0 (client identity) is empty"
        case .badRequestID(let b): "frame 2 (req_id) is not a decimal number: \(WireError.show(b))"
        case .badMessageLength(let b): "frame 3 (msg_len) is not a decimal number: \(WireError.show(b))"
        case .invalidJSON(let why): "payload is not valid JSON: \(why)"
        case .notStringList: "payload must be a JSON list of strings or a list of lists of strings"
        case .emptyList: "payload is an empty list"
        case .emptyString(let i): "element \(i) is an empty string"
        case .lengthMismatch(let d, let a): "msg_len is \(d) but the payload holds \(a) sequences"
        case .messageTooLarge(let b, let l): "payload of \(b) bytes exceeds the server's limit of \(l) bytes (-request_max_message_bytes)"
        case .tooManyTexts(let d, let l):
            "msg_len \(d == Int.max ? "beyond Int.max" : String(d)) exceeds the server's limit of \(l) sequences per request (-request_max_texts)"
        }
    }

    /// A frame as Python would print `bytes` (`b'abc'`), shortened to 60 bytes.
    static func show(_ bytes: [UInt8]) -> String {
        var s = "b'"
        for b in bytes.prefix(60) {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "'") && b != UInt8(ascii: "\\") {
                s.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return s + (bytes.count > 60 ? "...'" : "'")
    }
}
