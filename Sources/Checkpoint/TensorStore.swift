/// The element types a checkpoint may hold. Only floating-point tensors are model weights;
/// the others are recognised so they can be skipped with a clear message.
public enum TensorDType: String, Sendable, Equatable {
    case float32, float16, bfloat16, float64, int32, int64, other
}

/// Name, shape and element type of one stored tensor, known without reading its data.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let dtype: TensorDType

    public init(name: String, shape: [Int], dtype: TensorDType) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
    }

    /// Number of elements (product of the shape; 1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Read access to the tensors of one model, named and laid out the Google-BERT way.
///
/// Names are google-research/bert `modeling.py` variable names
/// (`bert/encoder/layer_0/attention/self/query/kernel`), whatever the file format; dense kernels
/// are row-major `[in, out]` as TensorFlow stores them. Readers of other formats (safetensors
/// from Hugging Face, whose linear weights are `[out, in]`) translate names and transpose.
///
/// Implementations are immutable after opening and safe to read from several threads.
public protocol TensorStore: Sendable {
    /// Every tensor the store can read, in Google-BERT naming.
    var tensorNames: [String] { get }
    /// Shape and type of `name`, or nil when the store has no such tensor.
    func info(_ name: String) -> TensorInfo?
    /// Reads `name` as float32 in Google layout, converting float16/bfloat16 and verifying
    /// checksums where the format has them.
    /// - Throws: `CheckpointError` naming the file and tensor when it is missing, truncated,
    ///   corrupt, or not floating point.
    func floats(_ name: String) throws(CheckpointError) -> [Float]
    /// The file (or checkpoint prefix) that errors name; defaults to the type's name.
    var storePath: String { get }
    /// How errors name tensor `name`: as the file stores it, which is what an operator can look
    /// up (defaults to `name` itself, for stores that use Google names).
    func errorName(_ name: String) -> String
}

extension TensorStore {
    /// Reads `name` and checks that it has `expectedShape` (the shape the model configuration
    /// implies) before converting anything.
    /// - Throws: `.missingTensor`, `.shapeMismatch`, or whatever `floats(_:)` throws.
    public func floats(_ name: String, expectedShape: [Int]) throws(CheckpointError) -> [Float] {
        guard let info = info(name) else { throw .missingTensor(path: storePath, tensor: name) }
        guard info.shape == expectedShape else {
            throw .shapeMismatch(path: storePath, tensor: errorName(name), expected: expectedShape, actual: info.shape)
        }
        return try floats(name)
    }

    /// The type's name, for stores that are not backed by a file.
    public var storePath: String { "\(Self.self)" }

    public func errorName(_ name: String) -> String { name }
}
