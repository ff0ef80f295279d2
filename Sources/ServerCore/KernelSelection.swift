import BertEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gives the process OpenBLAS's fastest kernel for this CPU.
///
/// Debian's OpenBLAS 0.3.21 picks its kernel from cpuid when the library loads; on AMD Zen 5 it
/// settles for Haswell (AVX2), which measured 232 GFLOP/s against 450 with SkylakeX on sgemm
/// 6400×768×768, 2 threads. `OPENBLAS_CORETYPE` is read only at load time, so the only way to
/// change the kernel of a running process is to execute it again with the variable set.
/// A value the user set is never overridden, and AVX-512 is chosen only where cpuid has it.
enum KernelSelection {
    /// Marks the second execution, so the log can say why the kernel changed and no loop is possible.
    static let marker = "BERT_SERVING_SWIFT_REEXEC_KERNEL"

    /// Executes the program again with a better `OPENBLAS_CORETYPE` when OpenBLAS misdetected
    /// the CPU; returns (with the current kernel) when there is nothing to do or exec fails.
    static func reexecIfMisdetected(argv: [String], environment: [String: String]) {
        guard environment[marker] == nil,
              let core = BLASKernel.recommendedCoreType(currentCore: BLAS.coreName, environment: environment)
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(marker, BLAS.coreName, 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", cArgs)
        // exec failed: carry on with the kernel OpenBLAS chose.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(marker)
        cArgs.forEach { free($0) }
    }

    /// One line for the start-up log: the kernel in use and who chose it.
    static func describe(environment: [String: String]) -> String {
        let core = BLAS.coreName
        if let detected = environment[marker] {
            return "OpenBLAS kernel \(core) (OpenBLAS detected \(detected) on a CPU with AVX-512; set OPENBLAS_CORETYPE to override)"
        }
        if let set = environment["OPENBLAS_CORETYPE"] {
            return "OpenBLAS kernel \(core) (OPENBLAS_CORETYPE=\(set) set by the user)"
        }
        return "OpenBLAS kernel \(core) (detected by OpenBLAS)"
    }
}
