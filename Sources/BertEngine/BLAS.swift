import COpenBLAS
import Foundation

/// The OpenBLAS library the engine's matrix products run on.
public enum BLAS {
    /// The kernel OpenBLAS chose at load time (`openblas_get_corename`), e.g. "Haswell", "SkylakeX".
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration (`openblas_get_config`), for the start-up log.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// Threads each matrix product may use (`openblas_get_num_threads`).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the threads each matrix product may use (`openblas_set_num_threads`); process-wide.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(clamping: max(1, count)))
    }

    /// Threads per worker when the user did not choose (STYLE §5): the cores divided among the
    /// workers, at least one; nil when `OPENBLAS_NUM_THREADS` is set, which OpenBLAS honours itself.
    public static func defaultThreads(cores: Int, workers: Int, environment: [String: String]) -> Int? {
        if environment["OPENBLAS_NUM_THREADS"] != nil { return nil }
        return max(1, cores / max(1, workers))
    }
}

/// Whether OpenBLAS should be told to use its AVX-512 kernel.
///
/// OpenBLAS chooses its kernel from cpuid at load time and sometimes settles for an AVX2 one
/// (Haswell, Zen) on a CPU that has AVX-512; `OPENBLAS_CORETYPE` overrides the choice, but only
/// when set before the library loads, so the executable re-executes itself with it.
public enum BLASKernel {
    /// The AVX-512 subsets OpenBLAS's SkylakeX kernel uses.
    public static let avx512Flags: Set<String> = ["avx512f", "avx512bw", "avx512dq", "avx512vl"]
    /// Kernels that leave AVX-512 unused.
    public static let avx2Cores: Set<String> = ["haswell", "zen"]

    /// The flags of the first processor listed in a `/proc/cpuinfo` text.
    public static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if key == "flags" || key == "Features" {
                return Set(parts[1].split(separator: " ").map(String.init))
            }
        }
        return []
    }

    /// This machine's CPU flags from `/proc/cpuinfo`; empty where it cannot be read.
    public static func hostCPUFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        return cpuFlags(cpuinfo: text)
    }

    /// The `OPENBLAS_CORETYPE` to re-execute with, or nil to keep the current kernel.
    ///
    /// "SkylakeX" only when the user set no `OPENBLAS_CORETYPE` (any value, even one we would not
    /// choose, is honoured), the CPU has AVX-512 F/BW/DQ/VL, and OpenBLAS picked an AVX2 kernel.
    public static func recommendedCoreType(
        currentCore: String, environment: [String: String], cpuFlags: Set<String>
    ) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        guard avx512Flags.isSubset(of: cpuFlags) else { return nil }
        guard avx2Cores.contains(currentCore.lowercased()) else { return nil }
        return "SkylakeX"
    }

    /// `recommendedCoreType(currentCore:environment:cpuFlags:)` with this machine's CPU flags.
    public static func recommendedCoreType(currentCore: String, environment: [String: String]) -> String? {
        recommendedCoreType(currentCore: currentCore, environment: environment, cpuFlags: hostCPUFlags())
    }
}
