import Foundation
import Testing

/// The ground-truth rig built by CompatTests/reference/setup.sh (BSS_RIG_DIR, default
/// ~/.cache/bert-serving-swift/rig). Tests that need it fail, never skip, when it is missing.
enum Rig {
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["BSS_RIG_DIR"], !dir.isEmpty { return dir }
        return NSHomeDirectory() + "/.cache/bert-serving-swift/rig"
    }

    /// `<rig>/<name>`, after checking that `<rig>/<name>/.done` exists.
    static func model(_ name: String) throws -> String {
        let dir = directory + "/" + name
        guard FileManager.default.fileExists(atPath: dir + "/.done") else {
            throw RigMissing(path: dir)
        }
        return dir
    }

    struct RigMissing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "rig model \(path) is missing: run CompatTests/reference/setup.sh (or set BSS_RIG_DIR)"
        }
    }
}
