// libFuzzer target: the server's decoding of one received client message.
//
// Input layout (shared with Corpus/make_seeds.py): a sequence of frames, each a 2-byte
// little-endian length followed by that many bytes; a length running past the end takes the rest.
// The frames go through `ClientRequest.parse` (frame count, identity, req_id, msg_len) and, for
// encode requests, `EncodePayload.parse`, exactly as the ventilator calls them. Beyond "no crash,
// no hang", it checks two properties: a parsed payload re-serialised with `json()` parses back to
// the same payload, and every WireError describes itself.
import CLibFuzzer
import Glibc
import ServerCore

/// Splits the fuzzer's bytes into frames (see the file comment).
func frames(_ data: UnsafeRawBufferPointer) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var i = 0
    while i + 2 <= data.count && out.count < 16 {
        let n = Int(data[i]) | Int(data[i + 1]) << 8
        i += 2
        let end = min(data.count, i + n)
        out.append(Array(data[i ..< end]))
        i = end
    }
    return out
}

@main
enum FuzzWire {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzWire(data, size) })
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let parts = frames(UnsafeRawBufferPointer(start: UnsafeRawPointer(start), count: count))
    let request: ClientRequest
    do {
        request = try ClientRequest.parse(parts)
    } catch {
        precondition(error.isUnanswerable && !error.description.isEmpty)
        return 0
    }
    if request.command != nil { return 0 }
    do {
        let payload = try EncodePayload.parse(request.payload, declaredCount: request.msgLen)
        let again = try EncodePayload.parse(payload.json(), declaredCount: payload.count)
        precondition(again == payload, "json() round trip changed the payload")
    } catch {
        precondition(!error.isUnanswerable && !error.description.isEmpty)
    }
    return 0
}
