import CKernels

/// The threads one encoder splits its passes among (`CKernels/team.c`): the caller and
/// `threads - 1` helpers that spin for `spinMicroseconds` after each pass, then sleep.
///
/// Owned by one encoder and used by one thread at a time, like the encoder.
final class ThreadTeam {
    let threads: Int
    /// nil when a helper could not be started: every pass then runs on the caller.
    private let team: OpaquePointer?

    /// How long helpers spin for the next pass when the team runs every pass of an encode (the
    /// panel kernels' products too). The passes of one encode follow each other within tens of
    /// microseconds; between requests the helpers go to sleep.
    static let defaultSpinMicroseconds: UInt32 = 300

    init(threads: Int, spinMicroseconds: UInt32 = defaultSpinMicroseconds) {
        self.threads = max(1, threads)
        team = threads > 1 ? bss_team_create(threads - 1, spinMicroseconds) : nil
    }

    deinit { if let team { bss_team_destroy(team) } }

    /// Runs `body(part)` for each part in `0..<parts` on the team; returns when all are done.
    func run(_ parts: Int, _ body: (Int) -> Void) {
        guard let team, parts > 1 else {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                bss_team_run(team, parts, { context, part in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
                }, pointer)
            }
        }
    }
}
