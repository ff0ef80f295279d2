import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the client threads of one run report to the main thread.
final class RunState: Sendable {
    private let results: Mutex<[Result<[Double], StockClientError>?]>
    private let finished = Atomic<Int>(0)
    private let requests = Atomic<Int>(0)
    let clients: Int

    init(clients: Int) {
        self.clients = clients
        results = Mutex(Array(repeating: nil, count: clients))
    }

    func finish(client: Int, with result: Result<[Double], StockClientError>) {
        results.withLock { $0[client] = result }
        finished.add(1, ordering: .releasing)
    }

    func requestDone() { requests.add(1, ordering: .relaxed) }

    var allFinished: Bool { finished.load(ordering: .acquiring) >= clients }
    var completedRequests: Int { requests.load(ordering: .relaxed) }
    var outcomes: [Result<[Double], StockClientError>?] { results.withLock { $0 } }
}

/// The process group of the running server, for the SIGINT / SIGTERM handler.
enum CurrentServer {
    static let group = Atomic<Int32>(0)
    static func set(_ pid: pid_t) { group.store(pid, ordering: .sequentiallyConsistent) }
}
