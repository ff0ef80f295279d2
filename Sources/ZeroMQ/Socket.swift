import CZeroMQ

/// One libzmq socket.
///
/// Not thread safe and deliberately not `Sendable`: a socket is created, used and closed on one
/// thread (libzmq: "ØMQ sockets are not thread safe"). Closed on `close()` or deinit.
public final class Socket {
    private var handle: UnsafeMutableRawPointer?
    /// Keeps the context alive while the socket is open (zmq_ctx_term waits for open sockets).
    public let context: Context
    public let type: SocketType

    /// Opens a socket of `type` in `context` (`zmq_socket`).
    public init(_ context: Context, _ type: SocketType) throws(ZMQError) {
        guard let s = zmq_socket(context.handle, type.rawValue) else { throw ZMQError.last("zmq_socket") }
        self.context = context
        self.type = type
        self.handle = s
    }

    deinit { close() }

    /// Closes the socket (`zmq_close`); further calls fail with `ENOTSOCK`. Idempotent.
    public func close() {
        if let h = handle { _ = zmq_close(h) }
        handle = nil
    }

    func raw(_ op: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let h = handle else { throw ZMQError(operation: op, errno: ENOTSOCK) }
        return h
    }

    /// Binds to `endpoint` (`tcp://*:5555`, `inproc://name`).
    public func bind(_ endpoint: String) throws(ZMQError) {
        let h = try raw("zmq_bind")
        if zmq_bind(h, endpoint) != 0 { throw ZMQError.last("zmq_bind(\(endpoint))") }
    }

    /// Connects to `endpoint`.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let h = try raw("zmq_connect")
        if zmq_connect(h, endpoint) != 0 { throw ZMQError.last("zmq_connect(\(endpoint))") }
    }

    // MARK: options

    /// Sets an integer option (`ZMQ_LINGER`, `ZMQ_RCVTIMEO`, `ZMQ_SNDHWM`, …).
    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        let h = try raw("zmq_setsockopt")
        var v = value
        if zmq_setsockopt(h, option, &v, MemoryLayout<Int32>.size) != 0 {
            throw ZMQError.last("zmq_setsockopt(\(option))")
        }
    }

    /// Sets a binary option (`ZMQ_SUBSCRIBE`, `ZMQ_IDENTITY`, …).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let h = try raw("zmq_setsockopt")
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(h, option, $0.baseAddress, $0.count) }
        if rc != 0 { throw ZMQError.last("zmq_setsockopt(\(option))") }
    }

    /// Reads an integer option.
    public func intOption(_ option: Int32) throws(ZMQError) -> Int32 {
        let h = try raw("zmq_getsockopt")
        var v: Int32 = 0
        var size = MemoryLayout<Int32>.size
        if zmq_getsockopt(h, option, &v, &size) != 0 { throw ZMQError.last("zmq_getsockopt(\(option))") }
        return v
    }

    /// The endpoint of the last bind, e.g. `tcp://0.0.0.0:40123` (`ZMQ_LAST_ENDPOINT`).
    public func lastEndpoint() throws(ZMQError) -> String {
        let h = try raw("zmq_getsockopt")
        var buffer = [UInt8](repeating: 0, count: 1024)
        var size = buffer.count
        let rc = buffer.withUnsafeMutableBytes { zmq_getsockopt(h, ZMQ_LAST_ENDPOINT, $0.baseAddress, &size) }
        if rc != 0 { throw ZMQError.last("zmq_getsockopt(ZMQ_LAST_ENDPOINT)") }
        let end = buffer.prefix(size).firstIndex(of: 0) ?? min(size, buffer.count)
        return String(decoding: buffer[..<end], as: UTF8.self)
    }

    /// `ZMQ_LINGER` in milliseconds (-1: wait forever on close, 0: drop pending messages).
    public func setLinger(_ milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_LINGER, milliseconds) }
    /// `ZMQ_RCVTIMEO` in milliseconds (-1: block).
    public func setReceiveTimeout(_ milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_RCVTIMEO, milliseconds) }
    /// `ZMQ_SNDTIMEO` in milliseconds (-1: block).
    public func setSendTimeout(_ milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_SNDTIMEO, milliseconds) }
    /// Subscribes a `SUB` socket to messages whose first frame starts with `prefix`.
    public func subscribe(_ prefix: [UInt8]) throws(ZMQError) { try setOption(ZMQ_SUBSCRIBE, bytes: prefix) }

    // MARK: send / receive

    /// Sends `frames` as one multipart message. Retries on `EINTR`.
    /// - Parameter dontWait: fail with `EAGAIN` instead of blocking.
    /// - Throws: `ZMQError` (`ETERM` on shutdown, `EAGAIN` on timeout / `dontWait`).
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) {
        let h = try raw("zmq_send")
        if frames.isEmpty { return }
        for (i, frame) in frames.enumerated() {
            var flags: Int32 = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(h, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                let e = zmq_errno()
                if e == EINTR { continue }
                throw ZMQError(operation: "zmq_send(frame \(i) of \(frames.count))", errno: e)
            }
        }
    }

    /// Receives one whole multipart message. Retries on `EINTR`.
    /// - Throws: `ZMQError` (`ETERM` on shutdown, `EAGAIN` on timeout / `dontWait`).
    public func receive(dontWait: Bool = false) throws(ZMQError) -> [[UInt8]] {
        let h = try raw("zmq_msg_recv")
        var frames: [[UInt8]] = []
        var msg = zmq_msg_t()
        if zmq_msg_init(&msg) != 0 { throw ZMQError.last("zmq_msg_init") }
        defer { zmq_msg_close(&msg) }
        while true {
            let flags: Int32 = dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0
            let rc = zmq_msg_recv(&msg, h, flags)
            if rc < 0 {
                let e = zmq_errno()
                if e == EINTR { continue }
                throw ZMQError(operation: "zmq_msg_recv(frame \(frames.count))", errno: e)
            }
            let size = zmq_msg_size(&msg)
            if let data = zmq_msg_data(&msg), size > 0 {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            if zmq_msg_more(&msg) == 0 { return frames }
        }
    }
}
