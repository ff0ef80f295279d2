import Foundation
import Synchronization
import Testing
@testable import BertEngine

/// The encoder's thread team (CKernels/team.c): every part of a pass runs exactly once, on the
/// caller and the helpers, whether the helpers are spinning, asleep, or late.
@Suite struct ThreadTeamTests {
    /// Runs one pass and returns how often each part ran.
    static func counts(_ team: ThreadTeam, parts: Int) -> [Int] {
        let counts = Mutex([Int](repeating: 0, count: parts))
        team.run(parts) { part in counts.withLock { $0[part] += 1 } }
        return counts.withLock { $0 }
    }

    @Test(arguments: [1, 2, 3, 4])
    func everyPartRunsOnce(_ threads: Int) {
        let team = ThreadTeam(threads: threads)
        for parts in [0, 1, 2, 3, 7, 64, 1000] {
            #expect(Self.counts(team, parts: parts) == [Int](repeating: 1, count: parts), "\(parts) parts")
        }
    }

    /// Passes back to back (the helpers still spinning) and after pauses longer than the spin
    /// (the helpers asleep and woken by the next pass).
    @Test func passesAfterSpinningAndAfterSleeping() {
        let team = ThreadTeam(threads: 2, spinMicroseconds: 50)
        for round in 0..<2000 {
            #expect(Self.counts(team, parts: 2 + round % 3) == [Int](repeating: 1, count: 2 + round % 3))
        }
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.002)
            #expect(Self.counts(team, parts: 5) == [1, 1, 1, 1, 1])
        }
    }

    /// The helpers do take parts: with parts that take 20 ms, a pass of two uses two threads
    /// (in at least one of several passes, whatever the machine's load).
    @Test func helpersTakeParts() {
        let team = ThreadTeam(threads: 2)
        var sawTwoThreads = false
        for _ in 0..<10 where !sawTwoThreads {
            let threads = Mutex(Set<UInt>())
            team.run(2) { _ in
                Thread.sleep(forTimeInterval: 0.02)
                threads.withLock { _ = $0.insert(UInt(pthread_self())) }
            }
            sawTwoThreads = threads.withLock { $0.count } == 2
        }
        #expect(sawTwoThreads)
    }

    /// Teams are made and destroyed with their encoders; a destroyed team joins its helpers.
    @Test func teamsComeAndGo() {
        for _ in 0..<50 {
            let team = ThreadTeam(threads: 3)
            #expect(Self.counts(team, parts: 3) == [1, 1, 1])
        }
    }
}
