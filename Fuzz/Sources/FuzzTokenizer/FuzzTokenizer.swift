// libFuzzer target: Google BERT's tokenizer and convert_lst_to_features (WordPiece module).
//
// The vocabulary is the rig's MiniLM vocab.txt ($BSS_FUZZ_VOCAB, else
// $BSS_RIG_DIR/minilm-hf/vocab.txt, else ~/.cache/bert-serving-swift/rig/minilm-hf/vocab.txt).
// Input layout: byte 0 picks the settings (lower-casing, max_seq_len 4...67 or NONE, mask_cls_sep,
// no_special_token, plain or pre-tokenized); the rest, decoded as UTF-8 with replacement, is split
// at U+001E into sequences (and, pre-tokenized, at U+001F into tokens). Checks: one feature row per
// non-empty sequence, every row of one length within the limits, ids inside the vocabulary, masks 0/1.
import CLibFuzzer
import Foundation
import WordPiece

let vocabulary: Vocabulary = {
    let env = ProcessInfo.processInfo.environment
    let rig = env["BSS_RIG_DIR"] ?? (NSHomeDirectory() + "/.cache/bert-serving-swift/rig")
    let path = env["BSS_FUZZ_VOCAB"] ?? (rig + "/minilm-hf/vocab.txt")
    do {
        return try Vocabulary(contentsOfFile: path)
    } catch {
        fatalError("FuzzTokenizer: cannot load the vocabulary \(path): \(error) (set BSS_FUZZ_VOCAB)")
    }
}()
let lower = FullTokenizer(vocabulary: vocabulary, doLowerCase: true)
let cased = FullTokenizer(vocabulary: vocabulary, doLowerCase: false)

@main
enum FuzzTokenizer {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzTokenizer(data, size) })
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(start), count: count)
    let knobs = bytes[0]
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let maxSeqLen: Int? = knobs & 0x3F == 0x3F ? nil : 4 + Int(knobs & 0x3F)
    let tokenizer = knobs & 0x40 != 0 ? cased : lower
    let converter = FeatureConverter(tokenizer: tokenizer, maxSeqLen: maxSeqLen, maxPositionEmbeddings: 512,
                                     maskClsSep: knobs & 0x80 != 0, noSpecialToken: knobs & 0x01 != 0)
    let sequences = text.split(separator: "\u{1E}", omittingEmptySubsequences: false).map(String.init)
    let pretokenized = knobs & 0x02 != 0
    let batch: TextBatch = pretokenized
        ? .tokenized(sequences.map { $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) })
        : .texts(sequences)
    let features = converter.convert(batch)
    let expectedRows = pretokenized ? sequences.count : sequences.filter { !$0.isEmpty }.count
    precondition(features.count == expectedRows, "\(features.count) rows for \(expectedRows) sequences")
    let width = features.first?.inputIds.count ?? 0
    if let maxSeqLen { precondition(features.isEmpty || width == maxSeqLen, "row width \(width) != \(maxSeqLen)") }
    precondition(width <= 512, "row width \(width) > max_position_embeddings")
    for f in features {
        precondition(f.inputIds.count == width && f.inputMask.count == width && f.inputTypeIds.count == width)
        precondition(f.inputIds.allSatisfy { $0 >= 0 && Int($0) < vocabulary.count }, "id outside the vocabulary")
        precondition(f.inputMask.allSatisfy { $0 == 0 || $0 == 1 } && f.inputTypeIds.allSatisfy { $0 == 0 || $0 == 1 })
    }
    for s in sequences.prefix(4) {
        let tokens = tokenizer.tokenize(s)
        precondition(tokenizer.tokenizeToIds(s).count == tokens.count, "tokenize / tokenizeToIds disagree")
    }
    return 0
}
