import Logging
import Synchronization
import WordPiece

/// Counts the tokens the server feeds BERT for `usage.prompt_tokens` when replies carry no tokens.
///
/// The stock protocol only returns tokens with `-show_tokens_to_client`; otherwise we tokenize again with the
/// server's own vocabulary (`model_dir/vocab.txt` and `do_lower_case` from SHOW_CONFIG — the bridge runs in
/// the server's process, so the file is there), add [CLS]/[SEP] (three for a ` ||| ` pair; none for
/// pre-tokenized input under `-no_special_token`) and cap at `max_seq_len`, as `convert_lst_to_features` does.
/// Thread-safe.
final class TokenCounter: Sendable {
    struct Loaded: Sendable {
        var tokenizer: FullTokenizer
        var maxSeqLen: Int?
        var specialTokens: Bool
    }

    enum State: Sendable {
        case unloaded
        case loaded(Loaded)
        case failed
    }

    private let state = Mutex(State.unloaded)

    /// The count, or nil when the vocabulary cannot be read (logged once).
    func count(_ request: EncodeRequest, backend: any EmbeddingBackend, logger: Logger) async -> Int? {
        guard let loaded = await load(backend: backend, logger: logger) else { return nil }
        var total = 0
        switch request {
        case .texts(let texts):
            for t in texts { total += Self.count(text: t, loaded) }
        case .tokenized(let rows):
            for r in rows { total += Self.cap(r.count + (loaded.specialTokens ? 2 : 0), loaded) }
        }
        return total
    }

    static func cap(_ n: Int, _ loaded: Loaded) -> Int {
        if let m = loaded.maxSeqLen { return min(n, m) }
        return n
    }

    /// One sequence: a pair when it matches `^(.*) \|\|\| (.*)$` (no DOTALL: no newline; greedy: last ` ||| `).
    static func count(text: String, _ loaded: Loaded) -> Int {
        let scalars = Array(text.unicodeScalars)
        let separator: [Unicode.Scalar] = [" ", "|", "|", "|", " "]
        if !scalars.contains("\n"), scalars.count >= separator.count {
            var i = scalars.count - separator.count
            while i >= 0 {
                if Array(scalars[i..<(i + separator.count)]) == separator {
                    var a = String.UnicodeScalarView()
                    a.append(contentsOf: scalars[..<i])
                    var b = String.UnicodeScalarView()
                    b.append(contentsOf: scalars[(i + separator.count)...])
                    let n = loaded.tokenizer.tokenizeToIds(String(a)).count + loaded.tokenizer.tokenizeToIds(String(b)).count
                    return cap(n + 3, loaded)
                }
                i -= 1
            }
        }
        return cap(loaded.tokenizer.tokenizeToIds(text).count + 2, loaded)
    }

    private func load(backend: any EmbeddingBackend, logger: Logger) async -> Loaded? {
        switch state.withLock({ $0 }) {
        case .loaded(let l): return l
        case .failed: return nil
        case .unloaded: break
        }
        guard let bytes = try? await backend.serverConfig(), case .object = try? JSONValue.parse(bytes), let config = try? JSONValue.parse(bytes) else {
            return nil  // not cached: try again next time
        }
        guard case .string(let modelDir)? = config["model_dir"] else {
            state.withLock { $0 = .failed }
            logger.warning("SHOW_CONFIG has no model_dir: usage.prompt_tokens will be 0")
            return nil
        }
        let path = modelDir.hasSuffix("/") ? modelDir + "vocab.txt" : modelDir + "/vocab.txt"
        do {
            let vocabulary = try Vocabulary(contentsOfFile: path)
            var maxSeqLen: Int?
            if case .integer(let s)? = config["max_seq_len"] { maxSeqLen = Int(s) }
            let lower = config["do_lower_case"]?.isTruthy ?? true
            let special = !(config["no_special_token"]?.isTruthy ?? false)
            let loaded = Loaded(tokenizer: FullTokenizer(vocabulary: vocabulary, doLowerCase: lower), maxSeqLen: maxSeqLen, specialTokens: special)
            state.withLock { $0 = .loaded(loaded) }
            return loaded
        } catch {
            state.withLock { $0 = .failed }
            logger.warning("cannot read \(path) (\(error)): usage.prompt_tokens will be 0")
            return nil
        }
    }
}
