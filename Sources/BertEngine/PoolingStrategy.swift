/// How token vectors become the vectors a client receives: graph.py `PoolingStrategy`, whose raw
/// values (the enum ints SHOW_CONFIG reports) these are.
public enum PoolingStrategy: Int, Sendable, CaseIterable {
    /// Every token vector, times the mask: `[count, seqLen, dim]`.
    case none = 0
    /// Masked maximum over tokens; -1e30 where no token is unmasked.
    case reduceMax = 1
    /// Masked mean over tokens (sum / (tokens + 1e-10)); 0 where no token is unmasked.
    case reduceMean = 2
    /// Means of all pooled layers, then maxima of all pooled layers.
    case reduceMeanMax = 3
    /// The first position ([CLS] for single sequences); CLS_TOKEN is an alias.
    case firstToken = 4
    /// Position `sum(mask) - 1` ([SEP] for single sequences); SEP_TOKEN is an alias.
    case lastToken = 5
    /// The pooler: dense + tanh on the first token of the last layer.
    case clsPooled = 6

    /// The strategy for a `-pooling_strategy` value, aliases included (graph.py `from_string`,
    /// which looks the name up case-sensitively).
    public init?(name: String) {
        switch name {
        case "NONE": self = .none
        case "REDUCE_MAX": self = .reduceMax
        case "REDUCE_MEAN": self = .reduceMean
        case "REDUCE_MEAN_MAX": self = .reduceMeanMax
        case "FIRST_TOKEN", "CLS_TOKEN": self = .firstToken
        case "LAST_TOKEN", "SEP_TOKEN": self = .lastToken
        case "CLS_POOLED": self = .clsPooled
        default: return nil
        }
    }

    /// The canonical name (graph.py `__str__`: aliases print as their first name).
    public var name: String {
        switch self {
        case .none: "NONE"
        case .reduceMax: "REDUCE_MAX"
        case .reduceMean: "REDUCE_MEAN"
        case .reduceMeanMax: "REDUCE_MEAN_MAX"
        case .firstToken: "FIRST_TOKEN"
        case .lastToken: "LAST_TOKEN"
        case .clsPooled: "CLS_POOLED"
        }
    }
}
