import ArgparseCompat
import ServerCore
import Testing
@testable import ProxyCore

@Suite struct PyJSONParsingTests {
    @Test(arguments: [
        "{\"client\": \"x\", \"num\": 3, \"f\": 0.1, \"big\": 1e-05, \"l\": [1, [], {}], \"t\": true, \"n\": null}",
        "{\"a\": \"\\u00e9\\ud83d\\ude00\\n\\\"\", \"b\": -2, \"c\": 2.0, \"d\": [\"1\", \"15\", \"5\"]}",
        "[NaN, Infinity, -Infinity, 1.5e+16]",
    ])
    func roundTripsAsPythonWritesIt(_ text: String) throws {
        let value = try #require(PyJSON.parse(Array(text.utf8)))
        #expect(value.text == text)
    }

    @Test(arguments: ["", "{", "{\"a\" 1}", "[1,]", "\"abc", "{} x", "tru"])
    func rejectsMalformed(_ text: String) {
        #expect(PyJSON.parse(Array(text.utf8)) == nil)
    }

    @Test func editingKeepsKeyOrder() {
        let v = PyJSON.object([("a", .int(1)), ("b", .int(2))]).setting("a", .int(9)).setting("c", .null).removing("b")
        #expect(v.text == "{\"a\": 9, \"c\": null}")
    }
}

@Suite struct ProxyCommandTests {
    @Test func repeatedBackendFlagsAreJoined() {
        let args = ["-backend", "a:1:2", "-port", "9", "-ba", "b:3:4", "c:5:6", "-backend=d:7:8"]
        #expect(ProxyCommand.joinBackendOccurrences(args) == ["-backend", "a:1:2", "b:3:4", "c:5:6", "d:7:8", "-port", "9"])
    }

    @Test func ambiguousPrefixIsLeftToTheParser() {
        #expect(ProxyCommand.joinBackendOccurrences(["-b", "x"]) == ["-b", "x"])
    }

    @Test func parsesIntoOptions() throws {
        let parser = ArgumentParser(spec: ProxyCommand.spec, prog: "bert-serving-proxy")
        let args = ProxyCommand.joinBackendOccurrences(["-backend", "h:1:2", "-backend", "h:3:4", "-port", "6000", "-health_interval", "0.5"])
        let options = try ProxyOptions(arguments: try parser.parse(args))
        #expect(options.backends.map(\.description) == ["h:1:2", "h:3:4"])
        #expect(options.port == 6000 && options.portOut == 5556)
        #expect(options.healthInterval == 0.5 && options.healthTimeout == 2 && options.requestTimeout == 60)
        #expect(options.httpPort == nil)
    }

    @Test func duplicateBackendIsRefused() throws {
        let parser = ArgumentParser(spec: ProxyCommand.spec, prog: "bert-serving-proxy")
        let parsed = try parser.parse(["-backend", "h:1:2", "h:1:2"])
        #expect(throws: ProxyError.duplicateBackend("h:1:2")) { try ProxyOptions(arguments: parsed) }
    }

    @Test func missingBackendIsAnArgparseError() {
        let parser = ArgumentParser(spec: ProxyCommand.spec, prog: "bert-serving-proxy")
        do {
            _ = try parser.parse(["-port", "1"])
            Issue.record("parsed without -backend")
        } catch {
            guard case .usage(let message, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(message == "the following arguments are required: -backend")
            #expect(error.exitCode == 2)
        }
    }

    @Test func helpIsArgparseStyle() {
        let help = ArgumentParser(spec: ProxyCommand.spec, prog: "bert-serving-proxy", columns: 100).formatHelp()
        #expect(help.hasPrefix("usage: bert-serving-proxy [-h] -backend HOST:PORT:PORT_OUT"))
        #expect(help.contains("optional arguments:"))
        #expect(help.contains("-port PORT, -port_in PORT, -port_data PORT"))
    }
}

@Suite struct ProxySnapshotTests {
    @Test func metricsTextHasPerBackendSeries() {
        var snapshot = ProxySnapshot()
        var b = BackendState(address: BackendAddress(host: "h", port: 1, portOut: 2))
        b.isUp = true
        b.requests = 5
        snapshot.backends = [b]
        let text = snapshot.prometheusText()
        #expect(text.contains("bss_proxy_backend_up{backend=\"h:1:2\"} 1\n"))
        #expect(text.contains("bss_proxy_backend_requests_total{backend=\"h:1:2\"} 5\n"))
        #expect(text.contains("# TYPE bss_proxy_retries_total counter\n"))
        #expect(snapshot.isReady)
    }
}
