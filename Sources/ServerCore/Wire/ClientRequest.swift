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
    /// bad `msg_len` still names a client and gets an error reply).
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
        guard let _ = decimal(frames[2]) else { throw .badRequestID(frames[2]) }
        return ClientRequest(client: frames[0], payload: frames[1], reqID: frames[2],
                             msgLen: decimal(frames[3]), msgLenBytes: frames[3])
    }

    /// `bytes.isdigit()` then `int(bytes)`: non-empty ASCII digits; nil otherwise or on overflow.
    static func decimal(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var v = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            v = v * 10 + Int(b - UInt8(ascii: "0"))
        }
        return v
    }
}
