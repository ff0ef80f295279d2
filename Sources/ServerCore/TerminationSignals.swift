#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT for a server that drains: the first one calls `onFirst` (on a thread of its
/// own), a second one exits at once with 128 + signal, as a shell reports a killed process.
///
/// The handler is installed with `sigaction` when `install` returns, so no signal is lost in
/// between. (A Dispatch signal source needs the signal ignored first and registers
/// asynchronously: a SIGTERM sent right after the server logged it was ready fell in that gap
/// and was dropped, leaving the server running until a SIGKILL.) The handler itself only writes
/// the signal number into a pipe, which is all a signal handler may safely do here.
public enum TerminationSignals {
    /// Write end of the pipe, read by the signal handler (-1 until `install`).
    nonisolated(unsafe) private static var pipeWriteEnd: Int32 = -1

    /// Installs the handlers for SIGTERM and SIGINT; call it once, from the main thread.
    /// - Parameter onFirst: what the first signal does (e.g. start draining); it runs on the
    ///   signal thread, so it may block.
    public static func install(onFirst: @escaping @Sendable (Int32) -> Void) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }  // without a pipe the default action (exit) stays
        let readEnd = ends[0]
        pipeWriteEnd = ends[1]
        spawn("SIGNALS") {
            var received = 0
            while true {
                var signalNumber: UInt8 = 0
                let n = read(readEnd, &signalNumber, 1)
                if n < 0, errno == EINTR { continue }
                guard n == 1 else { return }
                received += 1
                let sig = Int32(signalNumber)
                if received == 1 {
                    onFirst(sig)
                } else {
                    Commands.write("second signal \(sig) while draining: exit without waiting for in-flight requests\n", to: 2)
                    _exit(128 + sig)
                }
            }
        }
        for sig in [SIGTERM, SIGINT] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = Glibc.write(TerminationSignals.pipeWriteEnd, &byte, 1)
            }
            #else
            action.__sigaction_u.__sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = Darwin.write(TerminationSignals.pipeWriteEnd, &byte, 1)
            }
            #endif
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }
}
