import HTTPFront
import Synchronization

/// A backend without sockets: vector i of a request is `[chars, i, 0.5, -1e-5]` (float32), or an error.
final class FakeBackend: EmbeddingBackend {
    let failure: BackendError?
    let delay: Duration
    let showTokens: Bool
    let requests = Mutex<[EncodeRequest]>([])
    let config: [UInt8]

    init(failure: BackendError? = nil, delay: Duration = .zero, showTokens: Bool = false, modelDir: String = "/nonexistent") {
        self.failure = failure
        self.delay = delay
        self.showTokens = showTokens
        self.config = Array(#"{"model_dir": "\#(modelDir)", "max_seq_len": 25, "do_lower_case": true, "server_version": "1.10.0"}"#.utf8)
    }

    func encode(_ request: EncodeRequest) async throws(BackendError) -> EncodedBatch {
        requests.withLock { $0.append(request) }
        if delay > .zero { try? await Task.sleep(for: delay) }
        if let failure { throw failure }
        var values: [Float] = []
        var tokens: [[String]] = []
        switch request {
        case .texts(let texts):
            for (i, t) in texts.enumerated() {
                values += [Float(t.unicodeScalars.count), Float(i), 0.5, -1e-5]
                tokens.append(["[CLS]"] + t.split(separator: " ").map(String.init) + ["[SEP]"])
            }
        case .tokenized(let rows):
            for (i, r) in rows.enumerated() {
                values += [Float(r.count), Float(i), 0.5, -1e-5]
                tokens.append(["[CLS]"] + r + ["[SEP]"])
            }
        }
        return EncodedBatch(dtype: "float32", shape: [request.count, 4], values: values, tokens: showTokens ? tokens : nil)
    }

    func serverConfig() async throws(BackendError) -> [UInt8] {
        if let failure { throw failure }
        return config
    }

    func serverStatus() async throws(BackendError) -> [UInt8] {
        if let failure { throw failure }
        let n = requests.withLock { $0.count }
        return Array(#"{"server_version": "1.10.0", "statistic": {"num_data_request": \#(n)}}"#.utf8)
    }

    func clientStatus() -> ClientStatus {
        ClientStatus(identity: Array("abc".utf8), numRequest: 3, pendingRequests: [2], port: 5555, portOut: 5556, serverIP: "localhost", timeoutMilliseconds: -1)
    }

    var isReady: Bool { failure == nil }
}
