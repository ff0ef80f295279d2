#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A server child process, started in its own process group so that stopping it also stops any
/// helper processes it forked (the original Python server runs its workers as processes).
///
/// Belongs to the thread that started it (waitpid on one pid from one place).
final class ServerProcess {
    let pid: pid_t
    /// The raw `waitpid` status once the process has been reaped.
    private(set) var waitStatus: Int32?

    /// Spawns `path arguments…` with stdout on /dev/null (the original's in-process server prints
    /// no argument table) and stderr inherited (its log).
    init(path: String, arguments: [String]) throws(BenchmarkError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw .serverLaunchFailed(path: path, errno: rc) }
        pid = child
    }

    /// Whether the process is still running (reaps it when it has ended).
    var isRunning: Bool {
        if waitStatus != nil { return false }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid {
            waitStatus = status
            return false
        }
        if rc < 0 && errno != EINTR {
            waitStatus = -1
            return false
        }
        return true
    }

    /// Waits up to `seconds` for the process to end; true when it has.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Monotonic.now + seconds
        while isRunning {
            if Monotonic.now >= deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// Sends `signal` to the process group (the server and whatever it forked).
    func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// "exited with status 1", "was killed by signal 9", "is still running".
    var statusDescription: String {
        guard let status = waitStatus else { return "is still running" }
        if status == -1 { return "could not be waited for" }
        let signal = status & 0x7F
        if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        return "was killed by signal \(signal)"
    }

    /// Whether the process ended with exit status 0.
    var exitedCleanly: Bool {
        guard let status = waitStatus else { return false }
        return status & 0x7F == 0 && (status >> 8) & 0xFF == 0
    }
}
