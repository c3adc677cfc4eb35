//! Checks of the metadata values the loaders and the tokenizer trust: an out-of-range value
//! makes them allocate or index wildly (or panic inside a dependency) instead of failing the
//! load with a message.

use crate::weights::SUPPORTED_ARCHITECTURES;
use std::collections::HashMap;

/// The token-id keys the engine itself uses (`crate::vocab`), checked against the vocabulary.
/// Other ids (`unk`, `pad`, `sep`) are read only by candle's tokenizer, which ignores one out
/// of range (as llama.cpp does): they are left alone, so that such files still load.
const TOKEN_ID_KEYS: [&str; 2] = ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"];

/// Checks the hyperparameters a loader trusts (an out-of-range layer or expert count would
/// make it allocate or index wildly instead of failing the load).
pub(super) fn check_hyperparameters(
    arch: Option<&str>,
    integers: &[(String, u64)],
) -> Result<(), String> {
    let Some(arch) = arch else { return Ok(()) };
    let get = |suffix: &str| {
        let key = format!("{arch}.{suffix}");
        integers.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    };
    let layers = get("block_count");
    if let Some(n) = layers
        && (n == 0 || n > 512)
    {
        return Err(format!("`{arch}.block_count` is {n} (1 to 512 layers allowed)"));
    }
    if let (Some(next), Some(n)) = (get("nextn_predict_layers"), layers)
        && next > n
    {
        return Err(format!(
            "`{arch}.nextn_predict_layers` ({next}) exceeds the layer count ({n})"
        ));
    }
    let experts = get("expert_count").unwrap_or(0);
    if experts > 1024 {
        return Err(format!("`{arch}.expert_count` is {experts} (at most 1024 allowed)"));
    }
    if let Some(used) = get("expert_used_count")
        && (used > experts || (experts > 0 && used == 0))
    {
        return Err(format!(
            "`{arch}.expert_used_count` ({used}) does not fit the expert count ({experts})"
        ));
    }
    Ok(())
}

/// Checks, for the architectures the engine runs, that the hyperparameters the loaders size
/// their buffers by agree with the tensors: the embedding width and the vocabulary with
/// `token_embd.weight` (and an output head of its own, `output.weight`), the head counts with
/// each other, the rotated dimensions with the head width, and every layer's attention and
/// feed-forward projections with the widths (a layer of another shape loaded, and then every
/// request failed in a matrix product). A
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
    let embeddings = "token_embd.weight";
    let rows = match shapes.get(embeddings).map(Vec::as_slice) {
        Some(&[w, _]) if w != width => {
            return Err(format!(
                "`{arch}.embedding_length` is {width}, but `{embeddings}` is {w} wide"
            ));
        }
        Some(&[_, rows]) => {
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
        Some(dims) => {
            return Err(format!("`{embeddings}` has shape {dims:?} (2 dimensions expected)"));
        }
        None => return Err(format!("the file has no tensor `{embeddings}`")),
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
    let value_width = get("attention.value_length").unwrap_or(head_width);
    let layers = get("block_count").unwrap_or(1);
    for layer in 0..layers {
        let tensor = |part: &str| format!("blk.{layer}.{part}.weight");
        let shape = |name: &str| match shapes.get(name) {
            Some(dims) => Ok(dims.clone()),
            None => Err(format!("the file has no tensor `{name}`")),
        };
        let expect = |name: String, expected: [u64; 2], what: &str| -> Result<(), String> {
            match shape(&name)? {
                dims if dims == expected => Ok(()),
                dims => Err(format!(
                    "`{name}` has shape {dims:?}, but the metadata describes {expected:?} ({what})"
                )),
            }
        };
        let q = heads.saturating_mul(head_width);
        let k = kv_heads.saturating_mul(head_width);
        let v = kv_heads.saturating_mul(value_width);
        let out = heads.saturating_mul(value_width);
        expect(tensor("attn_q"), [width, q], &format!("{heads} heads {head_width} wide"))?;
        expect(tensor("attn_k"), [width, k], &format!("{kv_heads} heads {head_width} wide"))?;
        expect(tensor("attn_v"), [width, v], &format!("{kv_heads} heads {value_width} wide"))?;
        expect(tensor("attn_output"), [out, width], &format!("{heads} heads {value_width} wide"))?;
        // The feed-forward width is the tensors' own (candle reads it from them): the three
        // must agree with it and with the embeddings.
        let up = tensor("ffn_up");
        let hidden = match shape(&up)?.as_slice() {
            &[w, hidden] if w == width => hidden,
            dims => {
                return Err(format!(
                    "`{up}` has shape {dims:?}, but the embeddings are {width} wide"
                ));
            }
        };
        let ffn = format!("a feed-forward layer {hidden} wide, as `{up}`");
        expect(tensor("ffn_gate"), [width, hidden], &ffn)?;
        expect(tensor("ffn_down"), [hidden, width], &ffn)?;
    }
    Ok(())
}

/// Checks that the token ids of [`TOKEN_ID_KEYS`] name tokens of the vocabulary of `vocab`
/// tokens (when the file has one: its absence is the tokenizer's error).
pub(super) fn check_token_ids(
    integers: &[(String, u64)],
    vocab: Option<u64>,
) -> Result<(), String> {
    let Some(vocab) = vocab else { return Ok(()) };
    for (key, id) in integers.iter().filter(|(k, _)| TOKEN_ID_KEYS.contains(&k.as_str())) {
        if *id >= vocab {
            return Err(format!(
                "`{key}` is {id}, but the vocabulary (`tokenizer.ggml.tokens`) has {vocab} \
                 tokens (ids 0 to {})",
                vocab.saturating_sub(1)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let layer = |name: &str, shape: &[usize]| match inspect(&craft::write_with_tensor(
            dir.path(),
            8,
            &md,
            name,
            shape,
        )) {
            Ok(_) => Ok(()),
            Err(LocalError::InvalidGguf { reason, .. }) => Err(reason),
            Err(other) => panic!("{other:?}"),
        };
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
            inspected(&craft::with(md.clone(), "qwen2.block_count", Value::U32(2)), &[])
                .unwrap_err(),
            "the file has no tensor `blk.1.attn_q.weight`"
        );
        // Architectures the engine does not run are not held to these rules.
        let other = craft::with(md.clone(), "general.architecture", Value::String("x".into()));
        let other = craft::with(other, "x.embedding_length", Value::U32(1 << 30));
        assert_eq!(inspected(&other, &[]), Ok(()));
    }

    #[test]
    fn token_ids_outside_the_vocabulary_are_named() {
        let ids = |eos: u64| {
            vec![
                ("tokenizer.ggml.bos_token_id".to_owned(), 1),
                ("tokenizer.ggml.eos_token_id".to_owned(), eos),
            ]
        };
        assert_eq!(check_token_ids(&ids(2), Some(3)), Ok(()));
        assert_eq!(
            check_token_ids(&ids(4_000_000_000), Some(49152)).unwrap_err(),
            "`tokenizer.ggml.eos_token_id` is 4000000000, but the vocabulary \
             (`tokenizer.ggml.tokens`) has 49152 tokens (ids 0 to 49151)"
        );
        assert!(check_token_ids(&ids(3), Some(3)).unwrap_err().contains("is 3,"));
        // Ids the engine does not use are candle's to ignore.
        let pad = vec![("tokenizer.ggml.padding_token_id".to_owned(), 99)];
        assert_eq!(check_token_ids(&pad, Some(3)), Ok(()));
        // No vocabulary: nothing to check against here.
        assert_eq!(check_token_ids(&ids(99), None), Ok(()));
    }
}
