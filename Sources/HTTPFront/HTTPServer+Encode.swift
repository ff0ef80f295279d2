import HTTPTypes
import Hummingbird
import NIOCore

/// A Python exception as the original proxy reports it: `JsonError(description=str(e), type=type(e).__name__)`.
struct PyError: Error {
    var type: String
    var description: String
}

/// What a request body turned out to be.
enum ParsedBody {
    case value(JSONValue)
    /// flask_json's answer when `request.json` fails: `{"description": "Not a JSON.", "status": 400}`.
    /// Form fields (Werkzeug's `MultiDict`: a missing key raises `BadRequestKeyError`, not `KeyError`).
    case form(JSONValue)
    case notJSON
    case notMsgPack(String)
    case tooLarge(limit: Int)
}

extension HTTPServer {
    static func mimeType(_ header: String?) -> String {
        header?.split(separator: ";").first.map { $0.trimmed().lowercased() } ?? ""
    }

    static func isMsgPack(_ mime: String) -> Bool { mime == "application/msgpack" || mime == "application/x-msgpack" }

    static func wantsMsgPack(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept] else { return false }
        return accept.split(separator: ",").contains { isMsgPack(mimeType(String($0))) }
    }

    /// Reads the body: form fields (first value of each, like `request.form[...]`) when form-encoded and
    /// non-empty, else JSON (`application/json` / `+json`), else MessagePack; anything else is "Not a JSON.".
    func parseBody(_ request: Request) async -> ParsedBody {
        let limit = configuration.maxBodyBytes
        let bytes: [UInt8]
        do {
            let buffer = try await request.body.collect(upTo: limit)
            bytes = Array(buffer.readableBytesView)
        } catch {
            return .tooLarge(limit: limit)
        }
        let mime = Self.mimeType(request.headers[.contentType])
        if mime == "application/x-www-form-urlencoded" {
            let form = Self.parseForm(bytes)
            if !form.isEmpty { return .form(.object(form.map { ($0.0, .string($0.1)) })) }
        }
        if mime == "application/json" || (mime.hasPrefix("application/") && mime.hasSuffix("+json")) {
            guard let v = try? JSONValue.parse(bytes) else { return .notJSON }
            return .value(v)
        }
        if Self.isMsgPack(mime) {
            do {
                return .value(try MsgPack.decode(bytes))
            } catch {
                return .notMsgPack(error.reason)
            }
        }
        return .notJSON
    }

    /// `application/x-www-form-urlencoded`: the first value of each name, in order (Werkzeug `MultiDict[key]`).
    static func parseForm(_ bytes: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = []
        for field in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = field.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(parts[0])
            let value = parts.count > 1 ? percentDecode(parts[1]) : ""
            if !out.contains(where: { $0.0 == name }) { out.append((name, value)) }
        }
        return out
    }

    static func percentDecode(_ raw: ArraySlice<UInt8>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var i = raw.startIndex
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while i < raw.endIndex {
            let c = raw[i]
            if c == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if c == UInt8(ascii: "%"), i + 2 < raw.endIndex, let h = hexValue(raw[i + 1]), let l = hexValue(raw[i + 2]) {
                bytes.append(h << 4 | l)
                i += 2
            } else {
                bytes.append(c)
            }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Python's `data[key]` on whatever the body parsed to.
    static func subscriptKey(_ data: JSONValue, _ key: String, isForm: Bool = false) throws(PyError) -> JSONValue {
        switch data {
        case .object:
            guard let v = data[key] else {
                if isForm {
                    throw PyError(type: "BadRequestKeyError", description: "400 Bad Request: The browser (or proxy) sent a request that this server could not understand.")
                }
                throw PyError(type: "KeyError", description: PythonFormat.stringRepr(key))
            }
            return v
        case .string: throw PyError(type: "TypeError", description: "string indices must be integers")
        case .array: throw PyError(type: "TypeError", description: "list indices must be integers or slices, not str")
        default: throw PyError(type: "TypeError", description: "'\(data.pythonTypeName)' object is not subscriptable")
        }
    }

    /// Port of `BertClient._check_input_lst_str` (bert_serving/client/__init__.py), messages included.
    static func checkListOfStrings(_ texts: JSONValue) throws(PyError) -> [String] {
        guard case .array(let items) = texts else {
            throw PyError(type: "TypeError", description: "\"\(PythonFormat.str(texts))\" must be <class 'list'>, but received <class '\(texts.pythonTypeName)'>")
        }
        if items.isEmpty {
            throw PyError(type: "ValueError", description: "\"\(PythonFormat.str(texts))\" must be a non-empty list, but received <class 'list'> with 0 elements")
        }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (idx, s) in items.enumerated() {
            guard case .string(let text) = s else {
                throw PyError(type: "TypeError", description: "all elements in the list must be <class 'str'>, but element \(idx) is <class '\(s.pythonTypeName)'>")
            }
            if PythonFormat.isBlank(text) {
                throw PyError(type: "ValueError", description: "all elements in the list must be non-empty string, but element \(idx) is \(PythonFormat.stringRepr(text))")
            }
            out.append(text)
        }
        return out
    }

    /// Port of `BertClient._check_input_lst_lst_str`.
    static func checkListOfTokenLists(_ texts: JSONValue) throws(PyError) -> [[String]] {
        guard case .array(let items) = texts else {
            throw PyError(type: "TypeError", description: "\"texts\" must be <class 'list'>, but received <class '\(texts.pythonTypeName)'>")
        }
        if items.isEmpty {
            throw PyError(type: "ValueError", description: "\"texts\" must be a non-empty list, but received <class 'list'> with 0 elements")
        }
        var out: [[String]] = []
        for s in items { out.append(try checkListOfStrings(s)) }
        return out
    }

    /// The request limits of this front (not in the original): sequences per request and sequence length.
    func checkLimits(_ request: EncodeRequest) throws(PyError) {
        if request.count > configuration.maxTexts {
            throw PyError(type: "ValueError", description: "too many sequences in one request: \(request.count) > \(configuration.maxTexts) (split the request)")
        }
        switch request {
        case .texts(let texts):
            for (i, t) in texts.enumerated() where t.unicodeScalars.count > configuration.maxTextLength {
                throw PyError(type: "ValueError", description: "sequence \(i) is \(t.unicodeScalars.count) characters long; the limit is \(configuration.maxTextLength)")
            }
        case .tokenized(let rows):
            for (i, r) in rows.enumerated() where r.count > configuration.maxTextLength {
                throw PyError(type: "ValueError", description: "sequence \(i) has \(r.count) tokens; the limit is \(configuration.maxTextLength)")
            }
        }
    }

    static var tooManyConnections: String { "Too many concurrent connections!Try to increase the value of \"max_concurrency\", currently =" }

    /// `POST /encode`: `{"id", "texts", "is_tokenized"}` → `{"id", "result", "status": 200}`, errors as the original.
    func encode(_ request: Request) async -> Response {
        let data: JSONValue
        var isForm = false
        switch await parseBody(request) {
        case .value(let v): data = v
        case .form(let v):
            data = v
            isForm = true
        case .notJSON:
            return flaskError(request, .badRequest, description: "Not a JSON.", type: nil, kind: "bad_request")
        case .notMsgPack(let why):
            return flaskError(request, .badRequest, description: "Not a MessagePack document: \(why)", type: nil, kind: "bad_request")
        case .tooLarge(let limit):
            return flaskError(request, .contentTooLarge, description: "request body larger than \(limit) bytes", type: "PayloadTooLarge", kind: "payload_too_large")
        }
        let id: JSONValue
        let texts: JSONValue
        let isTokenized: Bool
        do {
            id = try Self.subscriptKey(data, "id", isForm: isForm)
            texts = try Self.subscriptKey(data, "texts", isForm: isForm)
            isTokenized = data["is_tokenized"]?.isTruthy ?? false
        } catch {
            return flaskError(request, .badRequest, description: error.description, type: error.type, kind: "bad_request")
        }
        // The original takes a pooled client before the client checks the texts.
        guard limiter.acquire() else {
            return flaskError(request, .badRequest, description: Self.tooManyConnections + String(configuration.maxConnect), type: "RuntimeError", kind: "too_many_connections")
        }
        defer { limiter.release() }
        let encodeRequest: EncodeRequest
        do {
            encodeRequest = isTokenized ? .tokenized(try Self.checkListOfTokenLists(texts)) : .texts(try Self.checkListOfStrings(texts))
        } catch {
            return flaskError(request, .badRequest, description: error.description, type: error.type, kind: "bad_request")
        }
        do {
            try checkLimits(encodeRequest)
        } catch {
            return flaskError(request, .badRequest, description: error.description, type: error.type, kind: "limit_exceeded")
        }
        let batch: EncodedBatch
        do {
            batch = try await metrics.measureBackend(kind: "encode") { () async throws(BackendError) -> EncodedBatch in
                try await backend.encode(encodeRequest)
            }
        } catch {
            return backendFailure(request, error)
        }
        metrics.encoded(sequences: encodeRequest.count)
        if let tokens = batch.tokens { metrics.counted(tokens: tokens.reduce(0) { $0 + $1.count }) }
        if Self.wantsMsgPack(request) {
            let p = MsgPackPacker()
            p.packMap(count: 3)
            p.packString("id")
            p.pack(id)
            p.packString("result")
            Self.packNested(p, batch)
            p.packString("status")
            p.packInt(200)
            return respond(request, .ok, contentType: "application/msgpack", body: p.bytes)
        }
        var w = JSONWriter(sortKeys: true, capacity: batch.values.count * 21 + 64)
        w.raw("{\"id\":")
        w.write(id)
        w.raw(",\"result\":")
        Self.writeNested(&w, batch)
        w.raw(",\"status\":200}\n")
        return respond(request, .ok, contentType: "application/json", body: w.bytes)
    }

    /// `ndarray.tolist()` of the reply, floats as Python prints the float32 widened to double.
    static func writeNested(_ w: inout JSONWriter, _ batch: EncodedBatch) {
        let shape = batch.shape
        func level(_ dim: Int, _ offset: Int) -> Int {
            var offset = offset
            w.raw("[")
            if dim == shape.count - 1 {
                for i in 0..<shape[dim] {
                    if i > 0 { w.raw(",") }
                    w.writeDouble(Double(batch.values[offset]))
                    offset += 1
                }
            } else {
                for i in 0..<shape[dim] {
                    if i > 0 { w.raw(",") }
                    offset = level(dim + 1, offset)
                }
            }
            w.raw("]")
            return offset
        }
        if shape.isEmpty { w.raw("[]") } else { _ = level(0, 0) }
    }

    /// The same nesting as MessagePack arrays of float32.
    static func packNested(_ p: MsgPackPacker, _ batch: EncodedBatch) {
        let shape = batch.shape
        func level(_ dim: Int, _ offset: Int) -> Int {
            var offset = offset
            p.packArray(count: shape[dim])
            if dim == shape.count - 1 {
                for _ in 0..<shape[dim] {
                    p.packFloat(batch.values[offset])
                    offset += 1
                }
            } else {
                for _ in 0..<shape[dim] { offset = level(dim + 1, offset) }
            }
            return offset
        }
        if shape.isEmpty { p.packArray(count: 0) } else { _ = level(0, 0) }
    }
}
