// bert-serving-terminate: drop-in for bert_serving.server.cli:terminate (BertServer.shutdown).
import ServerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(Commands.terminate(argv: CommandLine.arguments))
