//! Checks that the tensors of a model of an architecture the engine runs have the shapes its
//! metadata describes: the loaders size their buffers by the metadata and trust the tensors to
//! match, so a mismatch either allocates wildly at load or fails every request later (in a
//! matrix product or a normalization), far from the file that caused it.
//!
//! (Over 400 lines: more than half of them are the tests, a crafted file per kind of tensor.)

use crate::weights::SUPPORTED_ARCHITECTURES;
use std::collections::HashMap;

/// Checks, for the architectures the engine runs, that the hyperparameters the loaders size
/// their buffers by agree with the tensors: the embedding width and the vocabulary with
/// `token_embd.weight` (and an output head of its own, `output.weight`), the final norm
/// (`output_norm.weight`) with the width, the head counts with each other, the rotated
/// dimensions with the head width, and every layer's tensors with the widths — its attention
/// and feed-forward projections, its two norms, qwen2's attention biases and qwen3's per-head
/// query and key norms (a layer of another shape loaded, and then every request failed in a
/// matrix product or a norm). A
/// loader trusts these values and allocates by them before it reads the layers (candle's
/// tables of RoPE angles, its key/value caches): an embedding width of 2^30 in a 1 MB file
/// asked for a 64 GiB allocation, which aborts the process, and a head count of 0 divided by
/// zero. Tensors are bounded by the file, so values that match them are too.
pub(super) fn check_shapes(
    arch: Option<&str>,
    integers: &[(String, u64)],
    vocab: Option<u64>,
    shapes: &HashMap<String, Vec<u64>>,
) -> Result<(), String> {
    let Some(arch) = arch.filter(|a| SUPPORTED_ARCHITECTURES.contains(a)) else { return Ok(()) };
    let get = |suffix: &str| {
        let key = format!("{arch}.{suffix}");
        integers.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    };
    let Some(width) = get("embedding_length") else { return Ok(()) };
    let tensors = Tensors(shapes);
    let embeddings = "token_embd.weight";
    let rows = match tensors.shape(embeddings)? {
        &[w, _] if w != width => {
            return Err(format!(
                "`{arch}.embedding_length` is {width}, but `{embeddings}` is {w} wide"
            ));
        }
        &[_, rows] => {
            if let Some(tokens) = vocab
                && tokens != rows
            {
                return Err(format!(
                    "the vocabulary (`tokenizer.ggml.tokens`) has {tokens} tokens, but \
                     `{embeddings}` has {rows} rows"
                ));
            }
            rows
        }
        dims => {
            return Err(format!("`{embeddings}` has shape {dims:?} (2 dimensions expected)"));
        }
    };
    // An output head of its own (else tied to the embeddings) gives a logit per token.
    if let Some(dims) = shapes.get("output.weight")
        && *dims != [width, rows]
    {
        return Err(format!(
            "`output.weight` has shape {dims:?}, but the embeddings make it {:?}",
            [width, rows]
        ));
    }
    let embedding_wide = format!("the embeddings are {width} wide");
    tensors.expect("output_norm.weight", &[width], &embedding_wide)?;
    let Some(heads) = get("attention.head_count") else { return Ok(()) };
    let kv_heads = get("attention.head_count_kv").unwrap_or(heads);
    if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
        return Err(format!(
            "`{arch}.attention.head_count` ({heads}) is not a positive multiple of \
             `{arch}.attention.head_count_kv` ({kv_heads})"
        ));
    }
    let head_width = match get("attention.key_length") {
        Some(w) => w,
        None if width % heads == 0 => width / heads,
        None => {
            return Err(format!(
                "`{arch}.embedding_length` ({width}) is not a multiple of \
                 `{arch}.attention.head_count` ({heads})"
            ));
        }
    };
    if let Some(rope) = get("rope.dimension_count")
        && rope > head_width
    {
        return Err(format!(
            "`{arch}.rope.dimension_count` ({rope}) exceeds the head width ({head_width})"
        ));
    }
    let widths = Widths {
        width,
        heads,
        kv_heads,
        head_width,
        value_width: get("attention.value_length").unwrap_or(head_width),
        // candle's llama loader reads `ffn_gate.{i}` … of each expert instead when there are
        // several.
        experts: get("expert_count").unwrap_or(0),
    };
    for layer in 0..get("block_count").unwrap_or(1) {
        check_layer(&tensors, arch, layer, &widths)?;
    }
    Ok(())
}

/// The widths the metadata gives a layer's tensors.
struct Widths {
    width: u64,
    heads: u64,
    kv_heads: u64,
    head_width: u64,
    value_width: u64,
    experts: u64,
}

/// The shapes of the file's tensors (GGUF's order: the row length first), by name.
struct Tensors<'a>(&'a HashMap<String, Vec<u64>>);

impl Tensors<'_> {
    fn shape(&self, name: &str) -> Result<&[u64], String> {
        match self.0.get(name) {
            Some(dims) => Ok(dims),
            None => Err(format!("the file has no tensor `{name}`")),
        }
    }

    /// The tensor `name` must be there, of shape `expected`, which `what` explains.
    fn expect(&self, name: &str, expected: &[u64], what: &str) -> Result<(), String> {
        match self.shape(name)? {
            dims if dims == expected => Ok(()),
            dims => Err(format!(
                "`{name}` has shape {dims:?}, but the metadata describes {expected:?} ({what})"
            )),
        }
    }
}

/// Checks the tensors of `layer` that the loader of `arch` reads against `w`.
fn check_layer(t: &Tensors<'_>, arch: &str, layer: u64, w: &Widths) -> Result<(), String> {
    let tensor = |part: &str| format!("blk.{layer}.{part}");
    let (width, heads, kv_heads) = (w.width, w.heads, w.kv_heads);
    let (head_width, value_width) = (w.head_width, w.value_width);
    let q = heads.saturating_mul(head_width);
    let k = kv_heads.saturating_mul(head_width);
    let v = kv_heads.saturating_mul(value_width);
    let out = heads.saturating_mul(value_width);
    let q_heads = format!("{heads} heads {head_width} wide");
    let k_heads = format!("{kv_heads} heads {head_width} wide");
    let v_heads = format!("{kv_heads} heads {value_width} wide");
    t.expect(&tensor("attn_q.weight"), &[width, q], &q_heads)?;
    t.expect(&tensor("attn_k.weight"), &[width, k], &k_heads)?;
    t.expect(&tensor("attn_v.weight"), &[width, v], &v_heads)?;
    let out_heads = format!("{heads} heads {value_width} wide");
    t.expect(&tensor("attn_output.weight"), &[out, width], &out_heads)?;
    if w.experts <= 1 {
        // The feed-forward width is the tensors' own (candle reads it from them): the three
        // must agree with it and with the embeddings.
        let up = tensor("ffn_up.weight");
        let hidden = match t.shape(&up)? {
            &[row, hidden] if row == width => hidden,
            dims => {
                return Err(format!(
                    "`{up}` has shape {dims:?}, but the embeddings are {width} wide"
                ));
            }
        };
        let ffn = format!("a feed-forward layer {hidden} wide, as `{up}`");
        t.expect(&tensor("ffn_gate.weight"), &[width, hidden], &ffn)?;
        t.expect(&tensor("ffn_down.weight"), &[hidden, width], &ffn)?;
    }
    // The norms scale the embeddings, one weight per dimension.
    let embedding_wide = format!("the embeddings are {width} wide");
    t.expect(&tensor("attn_norm.weight"), &[width], &embedding_wide)?;
    t.expect(&tensor("ffn_norm.weight"), &[width], &embedding_wide)?;
    match arch {
        // qwen2 adds a bias to each of the query, key and value projections.
        "qwen2" => {
            t.expect(&tensor("attn_q.bias"), &[q], &q_heads)?;
            t.expect(&tensor("attn_k.bias"), &[k], &k_heads)?;
            t.expect(&tensor("attn_v.bias"), &[v], &v_heads)?;
        }
        // qwen3 normalizes each query and key head.
        "qwen3" => {
            let head = format!("heads {head_width} wide");
            t.expect(&tensor("attn_q_norm.weight"), &[head_width], &head)?;
            t.expect(&tensor("attn_k_norm.weight"), &[head_width], &head)?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::LocalError;
    use crate::gguf::{craft, inspect};
    use candle_core::quantized::gguf_file::Value;

    /// What [`inspect`] says of a crafted qwen2 file with `metadata`, without the tensors of
    /// `skip`.
    fn inspected(metadata: &[(String, Value)], skip: &[&str]) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        match inspect(&craft::write(dir.path(), 8, metadata, skip)) {
            Ok(_) => Ok(()),
            Err(LocalError::InvalidGguf { reason, .. }) => Err(reason),
            Err(other) => panic!("expected InvalidGguf, got {other:?}"),
        }
    }

    /// What [`inspect`] says of a crafted file 8 wide with `metadata` whose tensors `changed`
    /// have the given shapes (candle's order: rows first) instead of the consistent ones.
    fn with_tensors(
        metadata: &[(String, Value)],
        changed: &[(&str, &[usize])],
    ) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        match inspect(&craft::write_with_tensors(dir.path(), 8, metadata, changed)) {
            Ok(_) => Ok(()),
            Err(LocalError::InvalidGguf { reason, .. }) => Err(reason),
            Err(other) => panic!("expected InvalidGguf, got {other:?}"),
        }
    }

    /// The crafted qwen2 metadata as that of architecture `arch` (same keys, its prefix).
    fn as_arch(arch: &str) -> Vec<(String, Value)> {
        let md =
            craft::qwen2_metadata(8).into_iter().map(|(k, v)| match k.strip_prefix("qwen2.") {
                Some(rest) => (format!("{arch}.{rest}"), v),
                None => (k, v),
            });
        craft::with(md.collect(), "general.architecture", Value::String(arch.into()))
    }

    #[test]
    fn hyperparameters_that_size_the_loaders_buffers_must_match_the_tensors() {
        let md = craft::qwen2_metadata(8);
        assert_eq!(inspected(&md, &[]), Ok(()));
        let bent = |key: &str, value: u32| {
            inspected(&craft::with(md.clone(), key, Value::U32(value)), &[]).unwrap_err()
        };
        assert_eq!(
            bent("qwen2.embedding_length", 1 << 30),
            "`qwen2.embedding_length` is 1073741824, but `token_embd.weight` is 8 wide"
        );
        assert_eq!(
            bent("qwen2.attention.head_count", 0),
            "`qwen2.attention.head_count` (0) is not a positive multiple of \
             `qwen2.attention.head_count_kv` (1)"
        );
        assert!(bent("qwen2.attention.head_count_kv", 0).contains("(0)"));
        assert_eq!(
            bent("qwen2.attention.head_count", 3),
            "`qwen2.embedding_length` (8) is not a multiple of `qwen2.attention.head_count` (3)"
        );
        assert_eq!(
            bent("qwen2.attention.key_length", 1 << 31),
            "`blk.0.attn_q.weight` has shape [8, 8], but the metadata describes \
             [8, 4294967296] (2 heads 2147483648 wide)"
        );
        assert_eq!(
            bent("qwen2.rope.dimension_count", 1 << 31),
            "`qwen2.rope.dimension_count` (2147483648) exceeds the head width (4)"
        );
        let dir = tempfile::tempdir().unwrap();
        let five_rows = craft::write_with_rows(dir.path(), 8, 5, &md, &[]);
        assert_eq!(
            match inspect(&five_rows) {
                Err(LocalError::InvalidGguf { reason, .. }) => reason,
                other => panic!("{other:?}"),
            },
            "the vocabulary (`tokenizer.ggml.tokens`) has 4 tokens, but `token_embd.weight` \
             has 5 rows"
        );
        // An output head of its own must have the embeddings' shape.
        let head =
            |shape: &[usize]| match inspect(&craft::write_with_output(dir.path(), 8, &md, shape)) {
                Ok(_) => Ok(()),
                Err(LocalError::InvalidGguf { reason, .. }) => Err(reason),
                Err(other) => panic!("{other:?}"),
            };
        assert_eq!(head(&[4, 8]), Ok(()));
        assert_eq!(
            head(&[4, 16]).unwrap_err(),
            "`output.weight` has shape [16, 4], but the embeddings make it [8, 4]"
        );
        assert!(head(&[5, 8]).unwrap_err().contains("[8, 5]"));
        assert_eq!(
            inspected(&md, &["blk.0.attn_k.weight"]).unwrap_err(),
            "the file has no tensor `blk.0.attn_k.weight`"
        );
        // Every layer's projections, not only the first's query and key.
        let layer = |name: &str, shape: &[usize]| with_tensors(&md, &[(name, shape)]);
        assert_eq!(layer("blk.0.attn_v.weight", &[4, 8]), Ok(()));
        assert_eq!(
            layer("blk.0.attn_v.weight", &[5, 8]).unwrap_err(),
            "`blk.0.attn_v.weight` has shape [8, 5], but the metadata describes [8, 4] \
             (1 heads 4 wide)"
        );
        assert!(layer("blk.0.attn_output.weight", &[8, 6]).unwrap_err().contains("[6, 8]"));
        assert_eq!(
            layer("blk.0.ffn_up.weight", &[16, 7]).unwrap_err(),
            "`blk.0.ffn_up.weight` has shape [7, 16], but the embeddings are 8 wide"
        );
        // A wider feed-forward layer is fine when its three projections agree; one that does
        // not is named with the width the others have.
        assert_eq!(
            layer("blk.0.ffn_up.weight", &[16, 8]).unwrap_err(),
            "`blk.0.ffn_gate.weight` has shape [8, 8], but the metadata describes [8, 16] \
             (a feed-forward layer 16 wide, as `blk.0.ffn_up.weight`)"
        );
        assert!(layer("blk.0.ffn_down.weight", &[8, 9]).unwrap_err().contains("ffn_down"));
        // Layers the metadata counts must be in the file.
        assert_eq!(
            inspected(
                &craft::with(md.clone(), "qwen2.block_count", Value::U32(2)),
                &["blk.1.attn_q.weight"]
            )
            .unwrap_err(),
            "the file has no tensor `blk.1.attn_q.weight`"
        );
        // Architectures the engine does not run are not held to these rules.
        let other = craft::with(md.clone(), "general.architecture", Value::String("x".into()));
        let other = craft::with(other, "x.embedding_length", Value::U32(1 << 30));
        assert_eq!(inspected(&other, &[]), Ok(()));
    }

    #[test]
    fn norms_and_biases_must_have_the_widths_of_the_metadata() {
        let md = craft::qwen2_metadata(8);
        let one = |name: &str, shape: &[usize]| with_tensors(&md, &[(name, shape)]);
        assert_eq!(one("output_norm.weight", &[8]), Ok(()));
        assert_eq!(
            one("output_norm.weight", &[7]).unwrap_err(),
            "`output_norm.weight` has shape [7], but the metadata describes [8] (the embeddings \
             are 8 wide)"
        );
        assert_eq!(
            one("blk.0.attn_norm.weight", &[16]).unwrap_err(),
            "`blk.0.attn_norm.weight` has shape [16], but the metadata describes [8] (the \
             embeddings are 8 wide)"
        );
        // As many values, in two dimensions: candle's norm wants one.
        assert_eq!(
            one("blk.0.ffn_norm.weight", &[2, 4]).unwrap_err(),
            "`blk.0.ffn_norm.weight` has shape [4, 2], but the metadata describes [8] (the \
             embeddings are 8 wide)"
        );
        // qwen2's biases: the query's is two heads 4 wide, the key's and value's one head.
        assert_eq!(
            one("blk.0.attn_q.bias", &[4]).unwrap_err(),
            "`blk.0.attn_q.bias` has shape [4], but the metadata describes [8] (2 heads 4 wide)"
        );
        assert!(one("blk.0.attn_k.bias", &[8]).unwrap_err().contains("`blk.0.attn_k.bias`"));
        assert!(one("blk.0.attn_v.bias", &[5]).unwrap_err().contains("`blk.0.attn_v.bias`"));
        assert_eq!(
            inspected(&md, &["output_norm.weight"]).unwrap_err(),
            "the file has no tensor `output_norm.weight`"
        );
        assert_eq!(
            inspected(&md, &["blk.0.attn_v.bias"]).unwrap_err(),
            "the file has no tensor `blk.0.attn_v.bias`"
        );
        // Every layer's, not only the first's.
        let two = craft::with(md.clone(), "qwen2.block_count", Value::U32(2));
        assert_eq!(inspected(&two, &[]), Ok(()));
        assert_eq!(
            with_tensors(&two, &[("blk.1.ffn_norm.weight", &[9])]).unwrap_err(),
            "`blk.1.ffn_norm.weight` has shape [9], but the metadata describes [8] (the \
             embeddings are 8 wide)"
        );

        // qwen3 reads no biases, but a norm of each query and key head.
        let qwen3 = as_arch("qwen3");
        let heads = |q: &'static [usize], k: &'static [usize]| {
            with_tensors(
                &qwen3,
                &[("blk.0.attn_q_norm.weight", q), ("blk.0.attn_k_norm.weight", k)],
            )
        };
        assert_eq!(heads(&[4], &[4]), Ok(()));
        assert_eq!(
            heads(&[8], &[4]).unwrap_err(),
            "`blk.0.attn_q_norm.weight` has shape [8], but the metadata describes [4] (heads 4 \
             wide)"
        );
        assert!(
            heads(&[4], &[3]).unwrap_err().contains("`blk.0.attn_k_norm.weight` has shape [3]")
        );
        assert_eq!(
            with_tensors(&qwen3, &[("blk.0.attn_q_norm.weight", &[4])]).unwrap_err(),
            "the file has no tensor `blk.0.attn_k_norm.weight`"
        );
        let wrong_bias = [
            ("blk.0.attn_q_norm.weight", &[4][..]),
            ("blk.0.attn_k_norm.weight", &[4]),
            ("blk.0.attn_q.bias", &[3]),
        ];
        assert_eq!(with_tensors(&qwen3, &wrong_bias), Ok(()));
        // llama: the norms, no biases.
        let llama = as_arch("llama");
        assert_eq!(with_tensors(&llama, &[("blk.0.attn_q.bias", &[3])]), Ok(()));
        assert!(
            with_tensors(&llama, &[("blk.0.attn_norm.weight", &[3])])
                .unwrap_err()
                .starts_with("`blk.0.attn_norm.weight` has shape [3]")
        );
    }

    /// candle's llama loader reads each expert's feed-forward tensors (`ffn_up.{i}`) when
    /// there are several: the single layer's are not asked for.
    #[test]
    fn a_mixture_of_experts_needs_no_single_feed_forward_layer() {
        let ffn = ["blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight"];
        let llama = as_arch("llama");
        assert_eq!(
            inspected(&llama, &ffn),
            Err("the file has no tensor `blk.0.ffn_up.weight`".into())
        );
        let experts = craft::with(llama, "llama.expert_count", Value::U32(2));
        let experts = craft::with(experts, "llama.expert_used_count", Value::U32(1));
        assert_eq!(inspected(&experts, &ffn), Ok(()));
        // Its norms are still checked.
        assert!(
            with_tensors(&experts, &[("blk.0.ffn_norm.weight", &[4])])
                .unwrap_err()
                .contains("`blk.0.ffn_norm.weight` has shape [4]")
        );
    }
}
