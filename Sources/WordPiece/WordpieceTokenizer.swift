/// Port of `WordpieceTokenizer` (bert/tokenization.py): greedy longest-match-first word pieces,
/// continuation pieces prefixed with `##`, words over `maxInputCharsPerWord` code points become `[UNK]`.
public struct WordpieceTokenizer: Sendable {
    /// The vocabulary pieces are looked up in.
    public let vocabulary: Vocabulary
    /// Longer words (in code points) map to `[UNK]` (`max_input_chars_per_word`).
    public let maxInputCharsPerWord: Int

    /// Creates a WordPiece tokenizer.
    public init(vocabulary: Vocabulary, maxInputCharsPerWord: Int = 100) {
        self.vocabulary = vocabulary
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Port of `WordpieceTokenizer.tokenize`: appends the piece ids of every whitespace-separated word.
    func tokenize(scalars text: [UInt32], into ids: inout [Int32]) {
        for word in PythonText.whitespaceTokenize(text) {
            tokenize(word: word, into: &ids)
        }
    }

    /// The pieces of one word (no whitespace inside), appended to `ids`.
    func tokenize(word: [UInt32], into ids: inout [Int32]) {
        if word.count > maxInputCharsPerWord {
            ids.append(vocabulary.unknownId)
            return
        }
        // UTF-8 bytes of the word, and where each code point starts in them.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(word.count * 2)
        var offsets: [Int] = []
        offsets.reserveCapacity(word.count + 1)
        for scalar in word {
            offsets.append(bytes.count)
            PythonText.appendUTF8(scalar, to: &bytes)
        }
        offsets.append(bytes.count)
        let firstPiece = ids.count
        let found = bytes.withUnsafeBufferPointer { buffer -> Bool in
            var start = 0
            while start < word.count {
                var end = word.count
                var match: Int32?
                while start < end {
                    let piece = UnsafeBufferPointer(rebasing: buffer[offsets[start]..<offsets[end]])
                    if let id = vocabulary.id(prefixed: start > 0, piece) {
                        match = id
                        break
                    }
                    end -= 1
                }
                guard let id = match else { return false }
                ids.append(id)
                start = end
            }
            return true
        }
        if !found {
            ids.removeSubrange(firstPiece...)
            ids.append(vocabulary.unknownId)
        }
    }
}
