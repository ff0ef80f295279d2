import Testing
@testable import BertEngine

/// Properties the server relies on, on the rig's MiniLM and the golden inputs.
@Suite struct InvariantTests {
    static let strategies: [PoolingStrategy] = PoolingStrategy.allCases

    static func plainInput() throws -> EncoderBatch { try Golden.input("plain_len25_n24").batch }

    @Test(arguments: strategies)
    func sentenceAloneEqualsInsideBatch(_ pooling: PoolingStrategy) throws {
        let encoder = BertEncoder(weights: try MiniLM.tf1.get())
        let batch = try Self.plainInput()
        let full = try encoder.encode(batch, pooling: pooling, layers: [-2])
        for row in [0, 2, 6, 15, 23] {
            let alone = try encoder.encode(batch.rows([row]), pooling: pooling, layers: [-2])
            #expect(maxAbsDiff(Array(alone.values), Array(full.row(row))) <= 1e-5, "row \(row)")
        }
        // A sub-batch in another order and with other neighbours.
        let picked = [23, 4, 17, 0, 9]
        let part = try encoder.encode(batch.rows(picked), pooling: pooling, layers: [-2])
        for (i, row) in picked.enumerated() {
            #expect(maxAbsDiff(Array(part.row(i)), Array(full.row(row))) <= 1e-5, "row \(row) at \(i)")
        }
    }

    @Test func outputOrderIsInputOrder() throws {
        let encoder = BertEncoder(weights: try MiniLM.tf1.get())
        let batch = try Self.plainInput()
        let order = Array((0..<batch.count).reversed())
        let forward = try encoder.encode(batch, pooling: .reduceMean, layers: [-1])
        let reversed = try encoder.encode(batch.rows(order), pooling: .reduceMean, layers: [-1])
        for (i, row) in order.enumerated() {
            #expect(maxAbsDiff(Array(reversed.row(i)), Array(forward.row(row))) <= 1e-5)
        }
        // Distinct sentences give distinct vectors, so a permutation would be seen.
        #expect(maxAbsDiff(Array(forward.row(0)), Array(forward.row(1))) > 1e-2)
    }

    @Test(arguments: strategies)
    func paddingDoesNotChangePooledValues(_ pooling: PoolingStrategy) throws {
        let encoder = BertEncoder(weights: try MiniLM.tf1.get())
        let batch = try Self.plainInput()
        let longest = batch.longestRow
        #expect(longest < batch.seqLen || longest == 25)
        let at25 = try encoder.encode(batch, pooling: pooling, layers: [-1, -3])
        for length in [longest, 64] {
            let other = try encoder.encode(batch.padded(to: length), pooling: pooling, layers: [-1, -3])
            if pooling == .none {
                // [count, length, dim]: the common positions agree, the rest are zeros.
                let dim = at25.shape[2]
                #expect(other.shape == [batch.count, length, dim])
                for row in 0..<batch.count {
                    for p in 0..<max(length, batch.seqLen) {
                        let a = p < batch.seqLen ? Array(at25.values[((row * batch.seqLen + p) * dim)...].prefix(dim))
                            : [Float](repeating: 0, count: dim)
                        let b = p < length ? Array(other.values[((row * length + p) * dim)...].prefix(dim))
                            : [Float](repeating: 0, count: dim)
                        #expect(maxAbsDiff(a, b) <= 1e-5, "row \(row) position \(p) at length \(length)")
                    }
                }
            } else {
                #expect(other.shape == at25.shape)
                #expect(maxAbsDiff(other.values, at25.values) <= 1e-5, "length \(length)")
            }
        }
    }

    /// Splitting attention and the elementwise passes among threads changes nothing, bit for bit.
    @Test func encoderThreadCountDoesNotChangeResults() throws {
        let weights = try MiniLM.tf1.get()
        let batch = try Self.plainInput()
        let one = try BertEncoder(weights: weights, threads: 1).encode(batch, pooling: .none, layers: [-1])
        for threads in [2, 3, 7] {
            let many = try BertEncoder(weights: weights, threads: threads).encode(batch, pooling: .none, layers: [-1])
            #expect(many.values.elementsEqual(one.values) { $0.bitPattern == $1.bitPattern }, "\(threads) threads")
        }
    }

    @Test func safetensorsAndTF1GiveTheSameVectors() throws {
        let tf1 = BertEncoder(weights: try MiniLM.tf1.get())
        let hf = BertEncoder(weights: try MiniLM.safetensors.get())
        let batch = try Self.plainInput()
        for pooling in [PoolingStrategy.reduceMean, .clsPooled, .none] {
            let a = try tf1.encode(batch, pooling: pooling, layers: [-2])
            let b = try hf.encode(batch, pooling: pooling, layers: [-2])
            #expect(a.shape == b.shape)
            #expect(maxAbsDiff(a.values, b.values) <= 1e-5, "\(pooling)")
        }
    }

    @Test func workspaceIsReusedOnceGrown() throws {
        let encoder = BertEncoder(weights: try MiniLM.tf1.get())
        let batch = try Self.plainInput()
        _ = try encoder.encode(batch, pooling: .reduceMean, layers: [-2])
        let ws = encoder.workspace
        let before = (ws.hidden.pointer, ws.hidden.capacity, ws.intermediate.pointer, ws.qkv.pointer, ws.attentionScratch.pointer)
        _ = try encoder.encode(batch.rows([3, 1, 2]), pooling: .reduceMax, layers: [-1])
        _ = try encoder.encode(batch, pooling: .none, layers: [-2, -1])
        let after = (ws.hidden.pointer, ws.hidden.capacity, ws.intermediate.pointer, ws.qkv.pointer, ws.attentionScratch.pointer)
        #expect(before == after)
    }
}

@Suite struct BackgroundResultTests {
    struct Failure: Error, Equatable { let code: Int }

    @Test func valueAndErrorAreHandedOverOnEveryCall() throws {
        let value = BackgroundResult { (0..<1000).reduce(0, +) }
        #expect(try value.value() == 499_500)
        #expect(try value.value() == 499_500)
        let failing = BackgroundResult { () throws -> Int in throw Failure(code: 7) }
        #expect(throws: Failure(code: 7)) { try failing.value() }
        #expect(throws: Failure(code: 7)) { try failing.value() }
    }
}
