import BertEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gives the process OpenBLAS's fastest kernel for this CPU, and oneDNN's OpenMP threads a wait
/// policy that leaves the cores to the rest of the forward pass.
///
/// Debian's OpenBLAS 0.3.21 picks its kernel from cpuid when the library loads; on AMD Zen 5 it
/// settles for Haswell (AVX2), which measured 232 GFLOP/s against 450 with SkylakeX on sgemm
/// 6400×768×768, 2 threads. `OPENBLAS_CORETYPE` is read only at load time, and libgomp reads
/// `OMP_WAIT_POLICY` only at load time too (see `OpenMPWaitPolicy`), so the only way to change
/// either in a running process is to execute it again with the variables set.
/// A value the user set is never overridden, and AVX-512 is chosen only where cpuid has it.
enum KernelSelection {
    /// Holds the kernel OpenBLAS detected when the re-execution changed it, for the log.
    static let marker = "BERT_SERVING_SWIFT_REEXEC_KERNEL"
    /// Marks every re-execution, so none can loop.
    static let reexecMarker = "BERT_SERVING_SWIFT_REEXEC"

    /// The variables a re-execution sets, in order; empty when the process runs as it should.
    static func changes(environment: [String: String], currentCore: String) -> [(String, String)] {
        guard environment[reexecMarker] == nil, environment[marker] == nil else { return [] }
        var changes: [(String, String)] = []
        if let core = BLASKernel.recommendedCoreType(currentCore: currentCore, environment: environment) {
            changes += [("OPENBLAS_CORETYPE", core), (marker, currentCore)]
        }
        if let policy = OpenMPWaitPolicy.recommended(environment: environment) {
            changes.append((OpenMPWaitPolicy.variable, policy))
        }
        return changes
    }

    /// Executes the program again with a better `OPENBLAS_CORETYPE` when OpenBLAS misdetected
    /// the CPU and with `OMP_WAIT_POLICY=PASSIVE` when the user set no wait policy; returns
    /// (with the current settings) when there is nothing to do or exec fails.
    static func reexecIfNeeded(argv: [String], environment: [String: String]) {
        let changes = changes(environment: environment, currentCore: BLAS.coreName)
        guard !changes.isEmpty else { return }
        for (name, value) in changes { setenv(name, value, 1) }
        setenv(reexecMarker, "1", 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", cArgs)
        // exec failed: carry on with the settings the libraries loaded with.
        for (name, _) in changes { unsetenv(name) }
        unsetenv(reexecMarker)
        cArgs.forEach { free($0) }
    }

    /// One line for the start-up log: the kernel in use and who chose it.
    static func describe(environment: [String: String]) -> String {
        let core = BLAS.coreName
        let wait = "OpenMP wait policy \(environment[OpenMPWaitPolicy.variable] ?? "libgomp default")"
        if let detected = environment[marker] {
            return "OpenBLAS kernel \(core) (OpenBLAS detected \(detected) on a CPU with AVX-512; set OPENBLAS_CORETYPE to override), \(wait)"
        }
        if let set = environment["OPENBLAS_CORETYPE"] {
            return "OpenBLAS kernel \(core) (OPENBLAS_CORETYPE=\(set) set by the user), \(wait)"
        }
        return "OpenBLAS kernel \(core) (detected by OpenBLAS), \(wait)"
    }
}
