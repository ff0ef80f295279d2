import Dispatch
import Foundation
import Synchronization

/// A value computed on a thread of its own while the caller does other work: start-up reads the
/// vocabulary and the word embeddings this way, next to the encoder layers, on the second core
/// that is idle until the first request.
public final class BackgroundResult<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () throws -> Value) {
        Thread.detachNewThread { [self] in
            let outcome = Result { try body() }
            result.withLock { $0 = outcome }
            finished.signal()
        }
    }

    /// Waits for the thread, then returns its value or throws its error (again on every call).
    public func value() throws -> Value {
        finished.wait()
        finished.signal()  // later calls return at once
        return try result.withLock { $0! }.get()
    }
}
