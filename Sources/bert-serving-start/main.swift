// bert-serving-start: drop-in for the original's console script (bert_serving.server.cli:main).
// Parsing, config mapping and the server live in ServerCore (Commands.start) so they are tested there.
import ServerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(Commands.start(argv: CommandLine.arguments))
