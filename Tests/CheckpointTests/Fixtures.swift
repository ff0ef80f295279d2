import Foundation

/// Paths into Resources/ (written by CompatTests/reference/make_checkpoint_fixtures.py).
enum Fixtures {
    static var directory: String {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            return "Resources-not-bundled"
        }
        return url.path
    }

    static func path(_ relative: String) -> String { directory + "/" + relative }

    /// `bert_config.json`'s `hidden_size`, read the way the engine will.
    static func hiddenSize(configPath: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: configPath))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let hidden = object["hidden_size"] as? Int else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return hidden
    }
}
