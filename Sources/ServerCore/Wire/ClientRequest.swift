/// One message a client pushed to the frontend: `[identity, payload, req_id, msg_len]`
/// (`BertClient._send`).
public struct ClientRequest: Equatable, Sendable {
    /// Frame 0: the client's identity, also the topic its `SUB` socket subscribed to.
    public let client: [UInt8]
    /// Frame 1: a command (`SHOW_CONFIG`, …) or the JSON payload of an encode request.
    public let payload: [UInt8]
    /// Frame 2, echoed as the last frame of the reply.
    public let reqID: [UInt8]
    /// Frame 3 as a number, or nil when it is not a decimal number (an encode request with a
    /// bad `msg_len` still names a client and gets an error reply). Digit strings beyond `Int`
    /// (Python's `int` has no bound) saturate at `Int.max`, which no payload can match.
    public let msgLen: Int?
    /// The raw frame 3.
    public let msgLenBytes: [UInt8]

    /// The command in frame 1, if it is one (`ServerCmd.is_valid`).
    public var command: ServerCommand? { ServerCommand(bytes: payload) }

    /// Splits and checks the frames (`BertServer._run`: 4 frames, digits in `req_id` / `msg_len`).
    /// - Throws: `WireError.wrongFrameCount`, `.emptyIdentity`, `.badRequestID`; these cannot be answered.
    public static func parse(_ frames: [[UInt8]]) throws(WireError) -> ClientRequest {
        guard frames.count == 4 else { throw .wrongFrameCount(frames.count) }
        guard !frames[0].isEmpty else { throw .emptyIdentity }
        // Any length: the original checks `isdigit()` only, and we echo the bytes verbatim.
        guard isDigits(frames[2]) else { throw .badRequestID(frames[2]) }
        return ClientRequest(client: frames[0], payload: frames[1], reqID: frames[2],
                             msgLen: decimal(frames[3]), msgLenBytes: frames[3])
    }

    /// `bytes.isdigit()` for what a client sends: non-empty, ASCII digits only.
    static func isDigits(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `bytes.isdigit()` then `int(bytes)`: nil unless non-empty ASCII digits; `Int.max` when
    /// the number does not fit.
    static func decimal(_ bytes: [UInt8]) -> Int? {
        guard isDigits(bytes) else { return nil }
        var v = 0
        for b in bytes {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(b - UInt8(ascii: "0")))
            if o1 || o2 { return Int.max }
            v = a
        }
        return v
    }
}
