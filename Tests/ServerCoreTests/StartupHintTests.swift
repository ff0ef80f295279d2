import Testing
@testable import ServerCore

/// Start-up failures users of the original meet most come with what to do about them.
@Test func startupFailuresNameTheFix() {
    var config = ServerConfig(modelDir: "/x")
    config.port = 6000
    config.portOut = 6001
    let inUse = StartupError(component: "VENTILATOR", message: "zmq_bind(tcp://*:6000): Address already in use (errno 98)")
    #expect(Commands.startupHint(for: inUse, config: config).contains("bert-serving-terminate -port 6000"))
    let noModel = StartupError(component: "VENTILATOR", message: "/x: no such file (looked for -model_dir directory)")
    #expect(Commands.startupHint(for: noModel, config: config).contains("bert_config.json, vocab.txt"))
    let other = StartupError(component: "WORKER-0", message: "something else")
    #expect(Commands.startupHint(for: other, config: config).isEmpty)
}
