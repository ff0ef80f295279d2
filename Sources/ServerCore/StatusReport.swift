#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The static part of SHOW_CONFIG (`status_static` in `BertServer.__init__`).
///
/// We run no TensorFlow or pyzmq: `tensorflow_version` reports the pinned reference the
/// graph semantics follow, as a list of strings like `tf.__version__.split('.')`;
/// `python_version` and `pyzmq_version` name this implementation; `zmq_version` is the libzmq
/// actually linked.
public struct StaticStatus: Sendable, Equatable {
    public var tensorflowVersion = ["1", "15", "5"]
    public var pythonVersion = "bert-serving-swift (Swift)"
    public var serverVersion = "1.10.0"
    public var pyzmqVersion: String
    public var zmqVersion: String
    public var serverStartTime: String

    public init(zmqVersion: String, serverStartTime: String) {
        self.pyzmqVersion = "bert-serving-swift libzmq binding"
        self.zmqVersion = zmqVersion
        self.serverStartTime = serverStartTime
    }

    var items: [(String, PyJSON)] {
        [
            ("tensorflow_version", .array(tensorflowVersion.map { .string($0) })),
            ("python_version", .string(pythonVersion)),
            ("server_version", .string(serverVersion)),
            ("pyzmq_version", .string(pyzmqVersion)),
            ("zmq_version", .string(zmqVersion)),
            ("server_start_time", .string(serverStartTime)),
        ]
    }
}

/// The runtime part of SHOW_CONFIG / SHOW_STATUS (`status_runtime` in `BertServer._run`).
public struct RuntimeStatus: Sendable, Equatable {
    public var numProcess: Int
    public var ventilatorToWorker: [String]
    public var workerToSink: String
    public var ventilatorToSink: String
    public var numConcurrentSocket: Int

    public init(numProcess: Int, ventilatorToWorker: [String], workerToSink: String, ventilatorToSink: String,
                numConcurrentSocket: Int) {
        self.numProcess = numProcess
        self.ventilatorToWorker = ventilatorToWorker
        self.workerToSink = workerToSink
        self.ventilatorToSink = ventilatorToSink
        self.numConcurrentSocket = numConcurrentSocket
    }
}

/// Builds the SHOW_CONFIG / SHOW_STATUS body exactly as
/// `jsonapi.dumps({**status_runtime, **status_args, **status_static})` orders it: a key that
/// appears again keeps its first position and takes the later value (`device_map` shows the
/// `-device_map` argument where the runtime device map was inserted).
public enum StatusReport {
    public static func json(client: [UInt8], runtime: RuntimeStatus, currentTime: String,
                            statistic: PyJSON?, config: ServerConfig, staticStatus: StaticStatus) -> [UInt8] {
        var items: [(String, PyJSON)] = [
            ("client", .string(String(decoding: client, as: UTF8.self))),
            ("num_process", .int(runtime.numProcess)),
            ("ventilator -> worker", .array(runtime.ventilatorToWorker.map { .string($0) })),
            ("worker -> sink", .string(runtime.workerToSink)),
            ("ventilator <-> sink", .string(runtime.ventilatorToSink)),
            ("server_current_time", .string(currentTime)),
            ("device_map", .array([])),
            ("num_concurrent_socket", .int(runtime.numConcurrentSocket)),
        ]
        if let statistic { items.append(("statistic", statistic)) }
        for (key, value) in config.argumentItems + staticStatus.items {
            if let i = items.firstIndex(where: { $0.0 == key }) {
                items[i].1 = value
            } else {
                items.append((key, value))
            }
        }
        return PyJSON.object(items).dumps()
    }

    /// `str(datetime.now())`: local time `YYYY-MM-DD HH:MM:SS.ffffff` (no fraction when it is 0).
    public static func pythonNow() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        localtime_r(&t, &parts)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        var s = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
        s += "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        let micro = Int32(ts.tv_nsec / 1000)
        if micro != 0 { s += "." + pad(micro, 6) }
        return s
    }
}
