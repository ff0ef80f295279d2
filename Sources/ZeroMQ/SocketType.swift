import CZeroMQ

/// The libzmq socket patterns used by the server and its tests.
public enum SocketType: Sendable {
    case pair, pub, sub, xpub, xsub, push, pull, req, rep, dealer, router

    var rawValue: Int32 {
        switch self {
        case .pair: ZMQ_PAIR
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .xpub: ZMQ_XPUB
        case .xsub: ZMQ_XSUB
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        }
    }
}
