import Testing
@testable import ProxyCore

@Suite struct BackendAddressTests {
    @Test func parsesHostAndBothPorts() throws {
        let b = try BackendAddress(parsing: "127.0.0.1:5555:5556")
        #expect(b == BackendAddress(host: "127.0.0.1", port: 5555, portOut: 5556))
        #expect(b.requestEndpoint == "tcp://127.0.0.1:5555")
        #expect(b.resultEndpoint == "tcp://127.0.0.1:5556")
        #expect(b.description == "127.0.0.1:5555:5556")
    }

    @Test func bracketedIPv6Host() throws {
        let b = try BackendAddress(parsing: "[::1]:7000:7001")
        #expect(b.host == "[::1]")
        #expect(b.port == 7000 && b.portOut == 7001)
    }

    @Test(arguments: ["", "host", "host:5555", ":5555:5556", "h:0:1", "h:5555:70000", "h:x:1", "::1:5555:5556"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: ProxyError.self) { try BackendAddress(parsing: text) }
    }
}
