// bert-serving-start: drop-in for the original's console script (bert_serving.server.cli:main).
// Parsing, config mapping and the server live in ServerCore (Commands.start) so they are tested there.
import HTTPFront
import ServerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// -http_port: the HTTP front (HTTPFront) in this process, a ZeroMQ client of our own -port / -port_out.
exit(Commands.start(argv: CommandLine.arguments) { config in
    guard let httpPort = config.httpPort else { return }
    HTTPFrontLauncher.launch(httpPort: httpPort, port: config.port, portOut: config.portOut, maxConnect: config.httpMaxConnect, cors: config.cors)
})
