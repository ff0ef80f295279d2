import CompressNIO
import NIOCore

/// flask-compress's choices: gzip or deflate (zlib stream) by the client's `Accept-Encoding` q-values, ties to gzip.
/// Brotli is not offered (no brotli library here); such clients get gzip/deflate if they list them, else identity.
enum Compression {
    static let types = ["text/html", "text/css", "text/xml", "text/plain", "application/json", "application/javascript"]

    static func isCompressible(_ contentType: String) -> Bool {
        let mime = contentType.split(separator: ";").first.map { $0.trimmed().lowercased() } ?? ""
        return types.contains(mime)
    }

    /// The coding to use, or nil for identity.
    static func choose(_ acceptEncoding: String?) -> String? {
        guard let acceptEncoding else { return nil }
        var best: (coding: String, q: Double)?
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmed() }
            guard let name = parts.first?.lowercased(), !name.isEmpty else { continue }
            var q = 1.0
            for p in parts.dropFirst() where p.lowercased().hasPrefix("q=") {
                q = Double(p.dropFirst(2)) ?? 0
            }
            guard q > 0 else { continue }
            let coding: String
            switch name {
            case "gzip", "x-gzip", "*": coding = "gzip"
            case "deflate": coding = "deflate"
            default: continue
            }
            if let b = best, q < b.q || (q == b.q && coding != "gzip") { continue }
            best = (coding, q)
        }
        return best?.coding
    }

    static func compress(_ buffer: inout ByteBuffer, _ coding: String) -> ByteBuffer? {
        let algorithm: CompressionAlgorithm = coding == "gzip" ? .gzip() : .zlib()
        let compressor = algorithm.compressor
        var input = buffer
        do {
            try compressor.startStream()
            defer { try? compressor.finishStream() }
            var out = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
            try compressor.streamDeflate(from: &input, to: &out, flush: .finish)
            return out
        } catch {
            return nil
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
