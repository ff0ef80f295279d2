import Foundation
import Synchronization

/// Faults a test injects into the real binary through the environment, to prove the recovery
/// paths end to end (ERROR replies, worker restart, deadlines, backpressure) without a test
/// double in the pipeline.
///
/// `BERT_SERVING_FAILPOINTS` holds comma-separated `name=value` pairs:
/// - `encode_error_every=N`: every N-th encode call (counted over all workers) fails as an
///   internal engine fault would; the worker answers that job with an error and restarts.
/// - `encode_delay_ms=M`: every encode call first sleeps M ms (a slow or stuck worker).
///
/// Unset in normal runs; the server logs a warning at start-up when any is active.
public struct FailPoints: Sendable, Equatable {
    public var encodeErrorEvery: Int? = nil
    public var encodeDelayMilliseconds: Int? = nil

    public static let environmentVariable = "BERT_SERVING_FAILPOINTS"

    public init() {}

    public var isActive: Bool { encodeErrorEvery != nil || encodeDelayMilliseconds != nil }

    /// - Throws: `StartupError` naming the pair that is not understood (a typo must not silently
    ///   run a test without its fault).
    public init(parsing text: String) throws(StartupError) {
        for pair in text.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let value = Int(kv[1]), value > 0 else {
                throw StartupError(component: "VENTILATOR",
                                   message: "\(Self.environmentVariable): '\(pair)' is not name=positive integer")
            }
            switch kv[0] {
            case "encode_error_every": encodeErrorEvery = value
            case "encode_delay_ms": encodeDelayMilliseconds = value
            default:
                throw StartupError(component: "VENTILATOR",
                                   message: "\(Self.environmentVariable): unknown fail point '\(kv[0])' (known: encode_error_every, encode_delay_ms)")
            }
        }
    }

    /// The fail points of this process's environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(StartupError) -> FailPoints {
        guard let text = environment[environmentVariable], !text.isEmpty else { return FailPoints() }
        return try FailPoints(parsing: text)
    }

    private static let encodeCalls = Atomic<Int>(0)

    /// Called by a worker right before it encodes a job.
    /// - Throws: `InjectedFault` on every `encodeErrorEvery`-th call.
    func beforeEncode() throws(InjectedFault) {
        if let ms = encodeDelayMilliseconds { usleep(UInt32(clamping: ms * 1000)) }
        if let every = encodeErrorEvery {
            let n = Self.encodeCalls.add(1, ordering: .relaxed).newValue
            if n % every == 0 { throw InjectedFault(call: n) }
        }
    }
}

/// The fault `encode_error_every` injects: stands for an internal engine failure (not the
/// request's fault), after which the worker does not trust its encoder any more.
public struct InjectedFault: Error, CustomStringConvertible, Sendable {
    public let call: Int
    public var description: String { "injected engine fault at encode call \(call) (\(FailPoints.environmentVariable))" }
}
