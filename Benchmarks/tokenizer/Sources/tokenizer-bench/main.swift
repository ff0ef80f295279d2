// Tokenizes every line of a file with FullTokenizer (uncased) on one thread and prints one JSON line:
// {"sentences": n, "tokens": n, "seconds": s, "setup_seconds": s}
// usage: tokenizer-bench VOCAB TEXTS [ROUNDS]
import Foundation
import WordPiece

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: tokenizer-bench VOCAB TEXTS [ROUNDS]\n".utf8))
    exit(2)
}
let rounds = arguments.count > 3 ? max(1, Int(arguments[3]) ?? 1) : 1
let setupStart = Date()
let vocabulary: Vocabulary
do {
    vocabulary = try Vocabulary(contentsOfFile: arguments[1])
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
let tokenizer = FullTokenizer(vocabulary: vocabulary, doLowerCase: true)
_ = tokenizer.tokenizeToIds("warm up the Unicode tables")
let setupSeconds = Date().timeIntervalSince(setupStart)

guard let text = try? String(contentsOfFile: arguments[2], encoding: .utf8) else {
    FileHandle.standardError.write(Data("cannot read \(arguments[2])\n".utf8))
    exit(1)
}
let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
var tokens = 0
let start = Date()
for _ in 0..<rounds {
    for line in lines {
        tokens += tokenizer.tokenizeToIds(line).count
    }
}
let seconds = Date().timeIntervalSince(start)
print("{\"sentences\": \(lines.count * rounds), \"tokens\": \(tokens), \"seconds\": \(seconds), "
    + "\"setup_seconds\": \(setupSeconds)}")
