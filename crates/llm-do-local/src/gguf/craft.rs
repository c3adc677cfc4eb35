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

/// The tensors of a [`qwen2_metadata`] model `dim` wide with `vocab` tokens (candle's shapes:
/// rows first), all f32 and small; `skip` names tensors left out.
fn qwen2_tensors(dim: usize, vocab: usize, skip: &[&str]) -> Vec<(String, QTensor)> {
    let kv = dim / 2;
    let shapes: [(&str, &[usize]); 13] = [
        ("token_embd.weight", &[vocab, dim]),
        ("output_norm.weight", &[dim]),
        ("blk.0.attn_q.weight", &[dim, dim]),
        ("blk.0.attn_k.weight", &[kv, dim]),
        ("blk.0.attn_v.weight", &[kv, dim]),
        ("blk.0.attn_q.bias", &[dim]),
        ("blk.0.attn_k.bias", &[kv]),
        ("blk.0.attn_v.bias", &[kv]),
        ("blk.0.attn_output.weight", &[dim, dim]),
        ("blk.0.attn_norm.weight", &[dim]),
        ("blk.0.ffn_gate.weight", &[dim, dim]),
        ("blk.0.ffn_up.weight", &[dim, dim]),
        ("blk.0.ffn_down.weight", &[dim, dim]),
    ];
    let mut tensors: Vec<(String, QTensor)> = shapes
        .iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(name, shape)| {
            let t = Tensor::ones(*shape, candle_core::DType::F32, &Device::Cpu).unwrap();
            (name.to_string(), QTensor::quantize(&t, GgmlDType::F32).unwrap())
        })
        .collect();
    if !skip.contains(&"blk.0.ffn_norm.weight") {
        let t = Tensor::ones(dim, candle_core::DType::F32, &Device::Cpu).unwrap();
        tensors
            .push(("blk.0.ffn_norm.weight".into(), QTensor::quantize(&t, GgmlDType::F32).unwrap()));
    }
    tensors
}

/// Writes a qwen2 model `dim` wide with `metadata` (the embeddings have a row for each of its
/// tokens) into `dir`, without the tensors of `skip`.
pub(crate) fn write(
    dir: &Path,
    dim: usize,
    metadata: &[(String, Value)],
    skip: &[&str],
) -> PathBuf {
    let vocab = metadata.iter().find(|(k, _)| k == "tokenizer.ggml.tokens");
    let vocab = vocab.and_then(|(_, v)| v.to_vec().ok()).map_or(0, Vec::len);
    write_with_rows(dir, dim, vocab, metadata, skip)
}

/// [`write`] with `rows` rows of embeddings, whatever the vocabulary.
pub(crate) fn write_with_rows(
    dir: &Path,
    dim: usize,
    rows: usize,
    metadata: &[(String, Value)],
    skip: &[&str],
) -> PathBuf {
    write_tensors(dir, metadata, qwen2_tensors(dim, rows, skip))
}

/// [`write`] with an output head of its own, `shape` (candle's order: rows first), instead of
/// one tied to the embeddings.
pub(crate) fn write_with_output(
    dir: &Path,
    dim: usize,
    metadata: &[(String, Value)],
    shape: &[usize],
) -> PathBuf {
    let vocab = metadata.iter().find(|(k, _)| k == "tokenizer.ggml.tokens");
    let vocab = vocab.and_then(|(_, v)| v.to_vec().ok()).map_or(0, Vec::len);
    let mut tensors = qwen2_tensors(dim, vocab, &[]);
    let t = Tensor::ones(shape, candle_core::DType::F32, &Device::Cpu).unwrap();
    tensors.push(("output.weight".into(), QTensor::quantize(&t, GgmlDType::F32).unwrap()));
    write_tensors(dir, metadata, tensors)
}

/// [`write`] with the tensor `name` of shape `shape` (candle's order: rows first) instead of
/// the consistent one.
pub(crate) fn write_with_tensor(
    dir: &Path,
    dim: usize,
    metadata: &[(String, Value)],
    name: &str,
    shape: &[usize],
) -> PathBuf {
    let vocab = metadata.iter().find(|(k, _)| k == "tokenizer.ggml.tokens");
    let vocab = vocab.and_then(|(_, v)| v.to_vec().ok()).map_or(0, Vec::len);
    let mut tensors = qwen2_tensors(dim, vocab, &[name]);
    let t = Tensor::ones(shape, candle_core::DType::F32, &Device::Cpu).unwrap();
    tensors.push((name.into(), QTensor::quantize(&t, GgmlDType::F32).unwrap()));
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
