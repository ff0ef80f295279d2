import Testing
@testable import Checkpoint

/// The `.index` table format beyond the one-block indexes small models produce.
@Suite struct BundleIndexTests {
    /// 7000 scalars `<md5 prefix>/vNNNNN` = NNNNN, saved by TF 1.15.5: the index outgrows one
    /// 256 KiB table block, so keys span several data blocks and many restart points.
    @Test func indexSpanningSeveralDataBlocks() throws {
        let prefix = Fixtures.path("many-blocks/bert_model.ckpt")
        let index = try MappedFile(path: prefix + ".index", lookedFor: "index")
        var keys = 0
        let blocks = try SSTable(path: index.path, bytes: index.bytes).forEach { _, _ in keys += 1 }
        #expect(blocks > 1)
        #expect(keys == 7001)  // plus the header under ""
        let store = try TensorBundleReader(prefix: prefix)
        #expect(store.tensorNames.count == 7000)
        var wrong: [String] = []
        for name in store.tensorNames {
            guard let n = Int(name.suffix(5)), try store.floats(name) == [Float(n)],
                  store.info(name)?.shape == [] else {
                wrong.append(name)
                continue
            }
        }
        #expect(wrong.isEmpty)
    }

    @Test func shardFileNames() {
        #expect(TensorBundleReader.shardPath(prefix: "/m/bert_model.ckpt", shard: 0, of: 1)
            == "/m/bert_model.ckpt.data-00000-of-00001")
        #expect(TensorBundleReader.shardPath(prefix: "p", shard: 12, of: 345) == "p.data-00012-of-00345")
    }
}
