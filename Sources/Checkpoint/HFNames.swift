/// Hugging Face `BertModel` tensor names -> google-research/bert variable names.
///
/// The mapping is the one `transformers`' `load_tf_weights_in_bert` inverts: dots become
/// slashes under `bert/`, `layer.N` becomes `layer_N`, LayerNorm `weight`/`bias` are
/// `gamma`/`beta`, embedding tables drop `weight`, and dense `weight` is `kernel`, stored
/// `[out, in]` by PyTorch and therefore transposed to TensorFlow's `[in, out]`.
enum HFNames {
    struct Mapping: Equatable {
        let googleName: String
        let transpose: Bool
    }

    /// The Google name for `hfName` (with or without the `bert.` prefix), or nil for tensors
    /// outside the encoder (`cls.*` heads, `embeddings.position_ids` buffers).
    static func google(for hfName: String) -> Mapping? {
        var parts = hfName.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "bert" { parts.removeFirst() }
        guard parts.count >= 2, let top = parts.first, ["embeddings", "encoder", "pooler"].contains(top),
              let leaf = parts.last else { return nil }
        let parent = parts[parts.count - 2]
        var path: [String] = []
        var i = 0
        while i < parts.count - 1 {
            let p = parts[i]
            if p.isEmpty { return nil }
            if top == "encoder" && i == 1 {
                // encoder.layer.N.… -> encoder/layer_N/…; nothing else lives under encoder.
                guard p == "layer", i + 2 < parts.count - 1, let n = Int(parts[i + 1]), n >= 0,
                      String(n) == parts[i + 1] else { return nil }
                path.append("layer_\(n)")
                i += 2
                continue
            }
            path.append(p)
            i += 1
        }
        var transpose = false
        switch leaf {
        case "weight",
             "gamma" where parent == "LayerNorm":
            if parent == "LayerNorm" {
                path.append("gamma")
            } else if top == "embeddings" && parent.hasSuffix("_embeddings") {
                // embedding tables are stored as-is: [vocab, hidden]
            } else {
                path.append("kernel")
                transpose = true
            }
        case "bias",
             "beta" where parent == "LayerNorm":
            path.append(parent == "LayerNorm" ? "beta" : "bias")
        default:
            return nil
        }
        return Mapping(googleName: "bert/" + path.joined(separator: "/"), transpose: transpose)
    }
}
