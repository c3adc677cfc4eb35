//! Tests only: small GGUF files of a supported architecture, written with candle's GGUF
//! writer, whose metadata a test bends to probe the checks and the loaders.

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use std::path::{Path, PathBuf};

/// A qwen2 model of `dim` wide embeddings, two heads (one key/value head) and one layer, over
/// a four-token vocabulary whose last token ends the answer: every value a loader reads,
/// consistent, as `(key, value)` pairs a test may change before [`write`].
pub(crate) fn qwen2_metadata(dim: u32) -> Vec<(String, Value)> {
    let s = |v: &str| Value::String(v.into());
    let strings = |v: &[&str]| Value::Array(v.iter().map(|t| s(t)).collect());
    vec![
        ("general.architecture".into(), s("qwen2")),
        ("qwen2.attention.head_count".into(), Value::U32(2)),
        ("qwen2.attention.head_count_kv".into(), Value::U32(1)),
        ("qwen2.embedding_length".into(), Value::U32(dim)),
        ("qwen2.context_length".into(), Value::U32(64)),
        ("qwen2.block_count".into(), Value::U32(1)),
        ("qwen2.attention.layer_norm_rms_epsilon".into(), Value::F32(1e-6)),
        ("tokenizer.ggml.model".into(), s("gpt2")),
        ("tokenizer.ggml.pre".into(), s("qwen2")),
        ("tokenizer.ggml.tokens".into(), strings(&["a", "b", "ab", "<|im_end|>"])),
        ("tokenizer.ggml.merges".into(), strings(&["a b"])),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(3)),
    ]
}

/// The tensors of a [`qwen2_metadata`] model `dim` wide with `vocab` tokens and `layers`
/// layers (candle's shapes: rows first), all f32 and small; `skip` names tensors left out.
fn qwen2_tensors(dim: usize, vocab: usize, layers: usize, skip: &[&str]) -> Vec<(String, QTensor)> {
    let kv = dim / 2;
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        ("token_embd.weight".into(), vec![vocab, dim]),
        ("output_norm.weight".into(), vec![dim]),
    ];
    for layer in 0..layers {
        let layer_shapes: [(&str, &[usize]); 12] = [
            ("attn_q.weight", &[dim, dim]),
            ("attn_k.weight", &[kv, dim]),
            ("attn_v.weight", &[kv, dim]),
            ("attn_q.bias", &[dim]),
            ("attn_k.bias", &[kv]),
            ("attn_v.bias", &[kv]),
            ("attn_output.weight", &[dim, dim]),
            ("attn_norm.weight", &[dim]),
            ("ffn_gate.weight", &[dim, dim]),
            ("ffn_up.weight", &[dim, dim]),
            ("ffn_down.weight", &[dim, dim]),
            ("ffn_norm.weight", &[dim]),
        ];
        shapes.extend(layer_shapes.iter().map(|(n, s)| (format!("blk.{layer}.{n}"), s.to_vec())));
    }
    shapes
        .iter()
        .filter(|(name, _)| !skip.contains(&name.as_str()))
        .map(|(name, shape)| (name.clone(), ones(shape)))
        .collect()
}

/// An f32 tensor of ones of `shape` (candle's order: rows first).
fn ones(shape: &[usize]) -> QTensor {
    let t = Tensor::ones(shape, candle_core::DType::F32, &Device::Cpu).unwrap();
    QTensor::quantize(&t, GgmlDType::F32).unwrap()
}

/// The tokens of `metadata`'s vocabulary, and its layers (`*.block_count`, at most 4: enough
/// for a test, and a hostile count stays cheap to write).
fn sizes(metadata: &[(String, Value)]) -> (usize, usize) {
    let vocab = metadata.iter().find(|(k, _)| k == "tokenizer.ggml.tokens");
    let vocab = vocab.and_then(|(_, v)| v.to_vec().ok()).map_or(0, Vec::len);
    let layers = metadata.iter().find(|(k, _)| k.ends_with(".block_count"));
    let layers = layers.and_then(|(_, v)| v.to_u32().ok()).map_or(1, |n| n.min(4) as usize);
    (vocab, layers)
}

/// Writes a qwen2 model `dim` wide with `metadata` (the embeddings have a row for each of its
/// tokens) into `dir`, without the tensors of `skip`.
pub(crate) fn write(
    dir: &Path,
    dim: usize,
    metadata: &[(String, Value)],
    skip: &[&str],
) -> PathBuf {
    write_with_rows(dir, dim, sizes(metadata).0, metadata, skip)
}

/// [`write`] with `rows` rows of embeddings, whatever the vocabulary.
pub(crate) fn write_with_rows(
    dir: &Path,
    dim: usize,
    rows: usize,
    metadata: &[(String, Value)],
    skip: &[&str],
) -> PathBuf {
    write_tensors(dir, metadata, qwen2_tensors(dim, rows, sizes(metadata).1, skip))
}

/// [`write`] with an output head of its own, `shape` (candle's order: rows first), instead of
/// one tied to the embeddings.
pub(crate) fn write_with_output(
    dir: &Path,
    dim: usize,
    metadata: &[(String, Value)],
    shape: &[usize],
) -> PathBuf {
    write_with_tensors(dir, dim, metadata, &[("output.weight", shape)])
}

/// [`write`] with the tensors of `changed`, of the given shapes (candle's order: rows
/// first), instead of the consistent ones (or in addition to them).
pub(crate) fn write_with_tensors(
    dir: &Path,
    dim: usize,
    metadata: &[(String, Value)],
    changed: &[(&str, &[usize])],
) -> PathBuf {
    let (vocab, layers) = sizes(metadata);
    let names: Vec<&str> = changed.iter().map(|(name, _)| *name).collect();
    let mut tensors = qwen2_tensors(dim, vocab, layers, &names);
    tensors.extend(changed.iter().map(|(name, shape)| (name.to_string(), ones(shape))));
    write_tensors(dir, metadata, tensors)
}

fn write_tensors(
    dir: &Path,
    metadata: &[(String, Value)],
    tensors: Vec<(String, QTensor)>,
) -> PathBuf {
    let path = dir.join("crafted.gguf");
    let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = std::fs::File::create(&path).unwrap();
    gguf_file::write(&mut file, &md, &ts).unwrap();
    path
}

/// `metadata` with `key` set to `value`.
pub(crate) fn with(
    mut metadata: Vec<(String, Value)>,
    key: &str,
    value: Value,
) -> Vec<(String, Value)> {
    metadata.retain(|(k, _)| k != key);
    metadata.push((key.into(), value));
    metadata
}
