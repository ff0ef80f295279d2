import ServerCore

/// SHOW_CONFIG and SHOW_STATUS answered by the proxy, built from a backend's SHOW_STATUS body so
/// that the keys, their order and their JSON spelling are those of a single server.
public enum ProxyStatusBody {
    /// A single server's SHOW_CONFIG for `client`: the backend's body without `statistic`, with the
    /// client's identity, the proxy's time and the proxy's `port` / `port_out`.
    public static func config(from backend: PyJSON, client: [UInt8], currentTime: String, settings: BrokerSettings) -> PyJSON {
        common(backend.removing("statistic"), client: client, currentTime: currentTime, settings: settings)
    }

    /// SHOW_STATUS for `client`: as `config`, with the proxy's own `statistic` (over the clients it
    /// served, as one server counts them) and, appended, `proxy_backends`: per backend its address,
    /// health, counters and its own `statistic`.
    public static func status(from backend: PyJSON, client: [UInt8], currentTime: String, settings: BrokerSettings,
                              statistic: PyJSON, backends: [BackendState]) -> PyJSON {
        var body = common(backend, client: client, currentTime: currentTime, settings: settings)
        if body["statistic"] != nil {
            body = body.setting("statistic", statistic)
        } else if case .object(var items) = body {
            // Where a server puts it: right after the runtime keys.
            let at = (items.firstIndex { $0.0 == "num_concurrent_socket" }).map { $0 + 1 } ?? items.count
            items.insert(("statistic", statistic), at: at)
            body = .object(items)
        }
        let list = backends.map { b -> PyJSON in
            .object([
                ("backend", .string(b.address.description)),
                ("healthy", .bool(b.isUp)),
                ("down_reason", b.isUp ? .null : .string(b.downReason)),
                ("in_flight", .int(b.inFlight)),
                ("requests", .int(b.requests)),
                ("sequences", .int(b.sequences)),
                ("replies", .int(b.replies)),
                ("requests_lost", .int(b.requestsLost)),
                ("down_transitions", .int(b.downTransitions)),
                ("statistic", b.status?["statistic"] ?? .null),
            ])
        }
        return body.setting("proxy_backends", .array(list))
    }

    private static func common(_ body: PyJSON, client: [UInt8], currentTime: String, settings: BrokerSettings) -> PyJSON {
        var out = body.setting("client", .string(String(decoding: client, as: UTF8.self)))
        if out["server_current_time"] != nil { out = out.setting("server_current_time", .string(currentTime)) }
        if out["port"] != nil { out = out.setting("port", .int(settings.port)) }
        if out["port_out"] != nil { out = out.setting("port_out", .int(settings.portOut)) }
        return out
    }
}
