import Testing
import BertEngine

@Suite struct BLASTests {
    static let avx512 = "fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni"
    static let avx2 = "fpu sse2 avx avx2 fma"

    static func flags(_ line: String) -> Set<String> {
        BLASKernel.cpuFlags(cpuinfo: "processor\t: 0\nmodel name\t: test\nflags\t\t: \(line)\n\nprocessor\t: 1\n")
    }

    @Test func cpuFlagsAreReadFromTheFirstProcessor() {
        let parsed = Self.flags(Self.avx512)
        #expect(parsed.contains("avx512bw"))
        #expect(parsed.contains("fpu"))
        #expect(BLASKernel.cpuFlags(cpuinfo: "no flags here") == [])
    }

    @Test(arguments: [
        // (core, environment, flags, expected)
        ("Haswell", [String: String](), avx512, "SkylakeX"),
        ("Zen", [:], avx512, "SkylakeX"),
        ("haswell", [:], avx512, "SkylakeX"),
        ("SkylakeX", [:], avx512, nil),
        ("Cooperlake", [:], avx512, nil),
        ("Haswell", [:], avx2, nil),
        ("Haswell", [:], "avx512f avx512dq avx512vl", nil),  // no BW
        ("Haswell", ["OPENBLAS_CORETYPE": "Haswell"], avx512, nil),  // the user's choice wins
        ("Haswell", ["OPENBLAS_CORETYPE": ""], avx512, nil),
        ("Haswell", ["OPENBLAS_L2_SIZE": "512"], avx512, "SkylakeX"),
    ] as [(String, [String: String], String, String?)])
    func recommendedCoreType(_ core: String, _ environment: [String: String], _ flags: String, _ expected: String?) {
        #expect(BLASKernel.recommendedCoreType(
            currentCore: core, environment: environment, cpuFlags: Self.flags(flags)) == expected)
    }

    @Test func threadCountCanBeSetAndCoreIsNamed() {
        let before = BLAS.threads
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(before)
        #expect(!BLAS.coreName.isEmpty)
        #expect(BLAS.configuration.contains("OpenBLAS"))
    }

    @Test func defaultThreadsDivideTheCores() {
        #expect(BLAS.defaultThreads(cores: 8, workers: 2, environment: [:]) == 4)
        #expect(BLAS.defaultThreads(cores: 2, workers: 4, environment: [:]) == 1)
        #expect(BLAS.defaultThreads(cores: 8, workers: 2, environment: ["OPENBLAS_NUM_THREADS": "3"]) == nil)
    }
}

@Suite struct OpenMPWaitPolicyTests {
    @Test func passiveUnlessTheUserChose() {
        #expect(OpenMPWaitPolicy.recommended(environment: [:]) == "PASSIVE")
        #expect(OpenMPWaitPolicy.recommended(environment: ["OMP_WAIT_POLICY": "active"]) == nil)
        #expect(OpenMPWaitPolicy.recommended(environment: ["GOMP_SPINCOUNT": "10000"]) == nil)
    }
}
