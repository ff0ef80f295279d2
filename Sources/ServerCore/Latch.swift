import Dispatch
import Synchronization

/// A one-shot result handed from a pipeline thread to the thread waiting for it
/// (start-up succeeded or failed, a thread finished).
final class Latch: Sendable {
    private let state = Mutex<Result<Void, StartupError>?>(nil)
    private let semaphore = DispatchSemaphore(value: 0)

    func succeed() { set(.success(())) }
    func fail(_ error: StartupError) { set(.failure(error)) }

    private func set(_ r: Result<Void, StartupError>) {
        let first = state.withLock { s -> Bool in
            if s != nil { return false }
            s = r
            return true
        }
        if first { semaphore.signal() }
    }

    /// Blocks until a result is set.
    func wait() -> Result<Void, StartupError> {
        semaphore.wait()
        semaphore.signal()  // later waiters see it too
        return state.withLock { $0 } ?? .success(())
    }
}

/// Why the server could not start: the thread and what failed (a bind, the model, …).
public struct StartupError: Error, Equatable, CustomStringConvertible {
    public let component: String
    public let message: String
    public init(component: String, message: String) {
        self.component = component
        self.message = message
    }
    public var description: String { "\(component): \(message)" }
}
