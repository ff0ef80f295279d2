import Testing
@testable import ServerCore

private func request(_ client: String, _ payload: String, _ n: Int) -> ClientRequest {
    ClientRequest(client: Array(client.utf8), payload: Array(payload.utf8), reqID: Array("1".utf8),
                  msgLen: n, msgLenBytes: Array(String(n).utf8))
}

private func statistic(after requests: [ClientRequest]) -> PyJSON {
    var stats = ServerStatistic(clock: { 0 })
    requests.forEach { stats.update($0) }
    return stats.value
}

/// The Docker HEALTHCHECK probe is answered but must not show up as a client in SHOW_STATUS.
@Test func healthcheckProbesAreLeftOutOfTheStatistics() {
    let traffic = [request("client-a", "SHOW_CONFIG", 0), request("client-a", "[]", 4)]
    let probes = Array(repeating: request("bert-serving-healthcheck", "SHOW_CONFIG", 0), count: 3)
    #expect(statistic(after: traffic + probes) == statistic(after: traffic))
    // Any other client is counted (so the comparison above can fail).
    #expect(statistic(after: traffic + [request("another-client", "SHOW_CONFIG", 0)]) != statistic(after: traffic))
}
