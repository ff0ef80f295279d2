import HTTPTypes
import Hummingbird
import NIOCore

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
struct OpenAIError: Error {
    var status: HTTPResponse.Status
    var message: String
    var type: String = "invalid_request_error"
    var param: String?
    var code: String?
}

extension HTTPServer {
    func openAIError(_ request: Request, _ e: OpenAIError, kind: String) -> Response {
        metrics.error(kind: kind)
        let body: JSONValue = .object([
            (
                "error",
                .object([
                    ("message", .string(e.message)),
                    ("type", .string(e.type)),
                    ("param", e.param.map { .string($0) } ?? .null),
                    ("code", e.code.map { .string($0) } ?? .null),
                ])
            )
        ])
        var w = JSONWriter(sortKeys: false)
        w.write(body)
        w.raw("\n")
        return respond(request, e.status, contentType: "application/json", body: w.bytes)
    }

    /// Reads `input` of an OpenAI embeddings request.
    ///
    /// A string or an array of strings is encoded as text; an array of arrays of strings as pre-tokenized input
    /// (`is_tokenized`). Arrays of integers are OpenAI token ids of *its* tokenizers, meaningless for a BERT
    /// vocabulary, so they are refused rather than guessed at.
    static func embeddingInput(_ input: JSONValue?) throws(OpenAIError) -> EncodeRequest {
        guard let input else { throw OpenAIError(status: .badRequest, message: "'input' is a required property", param: "input") }
        let tokenIds = OpenAIError(
            status: .badRequest,
            message: "token-id input is not supported: this server tokenizes with the BERT model's own WordPiece vocabulary; send text (a string or an array of strings), or pre-tokenized text as an array of arrays of strings",
            param: "input")
        func nonBlank(_ s: String, _ where_: String) throws(OpenAIError) -> String {
            if PythonFormat.isBlank(s) { throw OpenAIError(status: .badRequest, message: "'$.input' is invalid: \(where_) is empty or blank", param: "input") }
            return s
        }
        switch input {
        case .string(let s):
            return .texts([try nonBlank(s, "the string")])
        case .array(let items):
            if items.isEmpty { throw OpenAIError(status: .badRequest, message: "'$.input' is invalid: the array is empty", param: "input") }
            if case .integer = items[0] { throw tokenIds }
            if case .string = items[0] {
                var texts: [String] = []
                for (i, x) in items.enumerated() {
                    guard case .string(let s) = x else {
                        throw OpenAIError(status: .badRequest, message: "'$.input' is invalid: element \(i) is not a string", param: "input")
                    }
                    texts.append(try nonBlank(s, "element \(i)"))
                }
                return .texts(texts)
            }
            var rows: [[String]] = []
            for (i, x) in items.enumerated() {
                guard case .array(let tokens) = x, !tokens.isEmpty else {
                    throw OpenAIError(status: .badRequest, message: "'$.input' is invalid: element \(i) must be a non-empty array", param: "input")
                }
                var row: [String] = []
                for t in tokens {
                    switch t {
                    case .string(let s): row.append(try nonBlank(s, "a token of element \(i)"))
                    case .integer: throw tokenIds
                    default: throw OpenAIError(status: .badRequest, message: "'$.input' is invalid: element \(i) holds a \(t.pythonTypeName)", param: "input")
                    }
                }
                rows.append(row)
            }
            return .tokenized(rows)
        default:
            throw OpenAIError(status: .badRequest, message: "'$.input' is invalid: expected a string or an array, got \(input.pythonTypeName)", param: "input")
        }
    }

    /// `POST /v1/embeddings`, OpenAI-compatible: `input`, `model` (echoed), `encoding_format` (`float` | `base64`);
    /// `dimensions` is refused (the vector size is the model's). `usage.prompt_tokens` counts the sequences'
    /// WordPiece tokens as the server feeds them (with [CLS]/[SEP], truncated to `max_seq_len`): from the reply
    /// when the server shows tokens, else by our own tokenizer over the server's vocabulary (see `TokenCounter`).
    func embeddings(_ request: Request) async -> Response {
        let data: JSONValue
        switch await parseBody(request) {
        case .value(let v), .form(let v): data = v
        case .notJSON, .notMsgPack:
            return openAIError(request, OpenAIError(status: .badRequest, message: "We could not parse the JSON body of your request. The body must be a JSON object with 'model' and 'input'."), kind: "bad_request")
        case .tooLarge(let limit):
            return openAIError(request, OpenAIError(status: .contentTooLarge, message: "request body larger than \(limit) bytes", param: "input", code: "payload_too_large"), kind: "payload_too_large")
        }
        guard case .object = data else {
            return openAIError(request, OpenAIError(status: .badRequest, message: "the request body must be a JSON object"), kind: "bad_request")
        }
        var model = "bert-serving"
        if let m = data["model"], m != .null {
            guard case .string(let s) = m else {
                return openAIError(request, OpenAIError(status: .badRequest, message: "'model' must be a string", param: "model"), kind: "bad_request")
            }
            model = s
        }
        var base64 = false
        if let f = data["encoding_format"], f != .null {
            switch f {
            case .string("float"): base64 = false
            case .string("base64"): base64 = true
            default:
                return openAIError(request, OpenAIError(status: .badRequest, message: "'encoding_format' must be 'float' or 'base64', got \(PythonFormat.repr(f))", param: "encoding_format"), kind: "bad_request")
            }
        }
        if let d = data["dimensions"], d != .null {
            return openAIError(
                request,
                OpenAIError(status: .badRequest, message: "'dimensions' is not supported: this server returns the BERT model's pooled vectors at their fixed size (hidden size × pooling layers); omit 'dimensions'", param: "dimensions"),
                kind: "bad_request")
        }
        let encodeRequest: EncodeRequest
        do {
            encodeRequest = try Self.embeddingInput(data["input"])
        } catch {
            return openAIError(request, error, kind: "bad_request")
        }
        do {
            try checkLimits(encodeRequest)
        } catch {
            return openAIError(request, OpenAIError(status: .badRequest, message: error.description, param: "input", code: "limit_exceeded"), kind: "limit_exceeded")
        }
        guard limiter.acquire() else {
            return openAIError(
                request,
                OpenAIError(status: .tooManyRequests, message: "too many concurrent requests (-http_max_connect \(configuration.maxConnect)); retry later", type: "requests", code: "rate_limit_exceeded"),
                kind: "too_many_connections")
        }
        defer { limiter.release() }
        let batch: EncodedBatch
        do {
            batch = try await metrics.measureBackend(kind: "encode") { () async throws(BackendError) -> EncodedBatch in
                try await backend.encode(encodeRequest)
            }
        } catch {
            let e: OpenAIError
            let kind: String
            switch error {
            case .timeout: (e, kind) = (OpenAIError(status: .gatewayTimeout, message: error.description, type: "server_error", code: "timeout"), "backend_timeout")
            case .unavailable: (e, kind) = (OpenAIError(status: .serviceUnavailable, message: error.description, type: "server_error"), "backend_unavailable")
            case .serverError(let m): (e, kind) = (OpenAIError(status: .internalServerError, message: "the server failed to encode: \(m)", type: "server_error"), "server_error")
            case .malformedReply: (e, kind) = (OpenAIError(status: .badGateway, message: error.description, type: "server_error"), "server_error")
            case .cancelled: (e, kind) = (OpenAIError(status: .badRequest, message: error.description), "cancelled")
            }
            return openAIError(request, e, kind: kind)
        }
        guard batch.shape.count == 2, batch.shape[0] == encodeRequest.count else {
            return openAIError(
                request,
                OpenAIError(status: .badRequest, message: "the server returns token-level embeddings of shape \(batch.shape) (-pooling_strategy NONE); /v1/embeddings needs one vector per input: use POST /encode", param: "input"),
                kind: "bad_request")
        }
        let promptTokens: Int
        if let tokens = batch.tokens {
            promptTokens = tokens.reduce(0) { $0 + $1.count }
        } else {
            promptTokens = await tokenCounter.count(encodeRequest, backend: backend, logger: logger) ?? 0
        }
        metrics.encoded(sequences: encodeRequest.count)
        metrics.counted(tokens: promptTokens)

        let dim = batch.shape[1]
        var w = JSONWriter(sortKeys: false, capacity: batch.values.count * (base64 ? 6 : 21) + 256)
        w.raw("{\"object\":\"list\",\"data\":[")
        for row in 0..<batch.shape[0] {
            if row > 0 { w.raw(",") }
            w.raw("{\"object\":\"embedding\",\"index\":\(row),\"embedding\":")
            let slice = batch.values[(row * dim)..<((row + 1) * dim)]
            if base64 {
                var raw: [UInt8] = []
                raw.reserveCapacity(dim * 4)
                for v in slice {
                    let bits = v.bitPattern.littleEndian
                    raw.append(UInt8(truncatingIfNeeded: bits))
                    raw.append(UInt8(truncatingIfNeeded: bits >> 8))
                    raw.append(UInt8(truncatingIfNeeded: bits >> 16))
                    raw.append(UInt8(truncatingIfNeeded: bits >> 24))
                }
                w.raw("\"")
                w.bytes.append(contentsOf: Base64.encode(raw))
                w.raw("\"")
            } else {
                w.raw("[")
                for (i, v) in slice.enumerated() {
                    if i > 0 { w.raw(",") }
                    w.writeDouble(Double(v))
                }
                w.raw("]")
            }
            w.raw("}")
        }
        w.raw("],\"model\":")
        w.writeString(model)
        w.raw(",\"usage\":{\"prompt_tokens\":\(promptTokens),\"total_tokens\":\(promptTokens)}}\n")
        return respond(request, .ok, contentType: "application/json", body: w.bytes)
    }
}

/// RFC 4648 base64 with padding.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return out
    }
}
