// bert-serving-benchmark: drop-in for the original's console script (bert_serving.server.cli:benchmark).
// The plan, the server restarts and the clients live in BenchmarkRunner so they are tested there.
import BenchmarkRunner
import Foundation

exit(BenchmarkCommand.main(argv: CommandLine.arguments, environment: ProcessInfo.processInfo.environment))
