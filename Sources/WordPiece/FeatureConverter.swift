/// Port of `convert_lst_to_features` and `_truncate_seq_pair` (bert/extract_features.py), as the
/// original worker calls them (server/__init__.py `BertWorker.input_fn_builder`).
///
/// Immutable and `Sendable`: one instance can serve every worker thread.
public struct FeatureConverter: Sendable {
    /// The tokenizer for plain texts (and the vocabulary for pre-tokenized input).
    public let tokenizer: FullTokenizer
    /// `-max_seq_len` (argparse ensures > 3, so every row has exactly this length); nil (`NONE`) sizes each
    /// batch to its longest row, capped by `maxPositionEmbeddings`.
    public let maxSeqLen: Int?
    /// `max_position_embeddings` from `bert_config.json`.
    public let maxPositionEmbeddings: Int
    /// `-mask_cls_sep`: [CLS] and [SEP] get input mask 0.
    public let maskClsSep: Bool
    /// `-no_special_token`: pre-tokenized single sequences get no [CLS]/[SEP].
    public let noSpecialToken: Bool

    /// Creates a converter with the worker's settings.
    public init(
        tokenizer: FullTokenizer, maxSeqLen: Int?, maxPositionEmbeddings: Int,
        maskClsSep: Bool, noSpecialToken: Bool
    ) {
        self.tokenizer = tokenizer
        self.maxSeqLen = maxSeqLen
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.maskClsSep = maskClsSep
        self.noSpecialToken = noSpecialToken
    }

    /// One side of an example: its token strings and their ids.
    private struct Segment {
        var tokens: [String]
        var ids: [Int32]

        var count: Int { ids.count }

        mutating func keepFirst(_ count: Int) {
            let kept = max(0, min(count, ids.count))
            tokens.removeSubrange(kept...)
            ids.removeSubrange(kept...)
        }

        mutating func removeLast() {
            tokens.removeLast()
            ids.removeLast()
        }
    }

    /// Port of `convert_lst_to_features`: one `InputFeatures` per example, in input order.
    ///
    /// As in `read_examples`, a plain text that is the empty string yields no row at all (the stock
    /// client refuses empty strings before sending). An empty batch gives an empty result (the original
    /// raises in `max()` with `max_seq_len` NONE).
    ///
    /// Deliberate difference: with `-no_special_token`, a plain text whose tokens do not fit in
    /// `max_seq_len - 2` still gets [CLS]/[SEP], and the original then fails its length `assert` and
    /// kills the worker; here it is truncated to `max_seq_len - 2` tokens like any plain text
    /// (../shared/REFERENCE.md, "Where we differ on purpose").
    public func convert(_ batch: TextBatch) -> [InputFeatures] {
        let isTokenized: Bool
        var examples: [(Segment, Segment)] = []
        switch batch {
        case let .texts(texts):
            isTokenized = false
            for text in texts where !text.isEmpty {
                let line = PythonText.strip(PythonText.scalars(text))
                if let (first, second) = PythonText.splitPair(line) {
                    examples.append((tokenize(first), second.isEmpty ? Self.emptySegment : tokenize(second)))
                } else {
                    examples.append((tokenize(line), Self.emptySegment))
                }
            }
        case let .tokenized(lists):
            isTokenized = true
            let separator = Array("|||".utf8)
            for list in lists {
                if let split = list.firstIndex(where: { $0.utf8.elementsEqual(separator) }) {
                    examples.append((markUnknown(list[..<split]), markUnknown(list[(split + 1)...])))
                } else {
                    examples.append((markUnknown(list[...]), Self.emptySegment))
                }
            }
        }
        guard !examples.isEmpty else { return [] }

        let seqLen: Int
        if let maxSeqLen {
            seqLen = maxSeqLen
        } else {
            // "max_seq_length" is undefined: the longest row of this batch plus its special tokens.
            let longest = examples.map { $0.0.count + $0.1.count }.max() ?? 0
            let special = examples.contains { $0.1.count > 0 } ? 3 : 2
            seqLen = min(longest + special, maxPositionEmbeddings)
        }
        return examples.map { features(first: $0.0, second: $0.1, seqLen: seqLen, isTokenized: isTokenized) }
    }

    private static let emptySegment = Segment(tokens: [], ids: [])

    private func tokenize(_ text: [UInt32]) -> Segment {
        let ids = tokenizer.tokenizeToIds(scalars: text)
        let vocabulary = tokenizer.vocabulary
        return Segment(tokens: ids.map { vocabulary.token(at: $0) ?? "[UNK]" }, ids: ids)
    }

    /// `tokenizer.mark_unk_tokens` plus the later `convert_tokens_to_ids`.
    private func markUnknown(_ tokens: ArraySlice<String>) -> Segment {
        let vocabulary = tokenizer.vocabulary
        var segment = Segment(tokens: [], ids: [])
        segment.tokens.reserveCapacity(tokens.count)
        segment.ids.reserveCapacity(tokens.count)
        for token in tokens {
            if let id = vocabulary.id(of: token.utf8) {
                segment.tokens.append(token)
                segment.ids.append(id)
            } else {
                segment.tokens.append("[UNK]")
                segment.ids.append(vocabulary.unknownId)
            }
        }
        return segment
    }

    /// The loop body of `convert_lst_to_features` for one example.
    private func features(first: Segment, second: Segment, seqLen: Int, isTokenized: Bool) -> InputFeatures {
        var tokensA = first
        var tokensB = second
        if tokensB.count > 0 {
            // Account for [CLS], [SEP], [SEP] with "- 3".
            Self.truncateSeqPair(&tokensA, &tokensB, maxLength: seqLen - 3)
        } else if tokensA.count > seqLen - 2 && !(noSpecialToken && isTokenized) {
            // The original's condition is `not no_special_token`; see `convert(_:)` for the plain-text case.
            tokensA.keepFirst(seqLen - 2)
        } else if tokensA.count > seqLen && noSpecialToken && isTokenized {
            tokensA.keepFirst(seqLen)
        }

        let vocabulary = tokenizer.vocabulary
        let special: Int32 = maskClsSep ? 0 : 1
        var tokens: [String]
        var inputIds: [Int32]
        var inputMask: [Int32]
        if noSpecialToken && isTokenized && tokensB.count == 0 {
            tokens = tokensA.tokens
            inputIds = tokensA.ids
            inputMask = [Int32](repeating: 1, count: tokensA.count)
        } else {
            tokens = ["[CLS]"] + tokensA.tokens + ["[SEP]"]
            inputIds = [vocabulary.classId] + tokensA.ids + [vocabulary.separatorId]
            inputMask = [special] + [Int32](repeating: 1, count: tokensA.count) + [special]
        }
        var inputTypeIds = [Int32](repeating: 0, count: tokens.count)
        if tokensB.count > 0 {
            tokens += tokensB.tokens + ["[SEP]"]
            inputIds += tokensB.ids + [vocabulary.separatorId]
            inputTypeIds += [Int32](repeating: 1, count: tokensB.count + 1)
            inputMask += [Int32](repeating: 1, count: tokensB.count) + [special]
        }

        // Zero-pad up to the sequence length.
        let padding = max(0, seqLen - inputIds.count)
        inputIds += [Int32](repeating: 0, count: padding)
        inputMask += [Int32](repeating: 0, count: padding)
        inputTypeIds += [Int32](repeating: 0, count: padding)
        return InputFeatures(tokens: tokens, inputIds: inputIds, inputMask: inputMask, inputTypeIds: inputTypeIds)
    }

    /// Port of `_truncate_seq_pair`: pops from the longer side (the second on a tie) until it fits.
    private static func truncateSeqPair(_ tokensA: inout Segment, _ tokensB: inout Segment, maxLength: Int) {
        while tokensA.count + tokensB.count > max(0, maxLength) {
            if tokensA.count > tokensB.count {
                tokensA.removeLast()
            } else {
                tokensB.removeLast()
            }
        }
    }
}
