//! The engine's own forward pass for llama-architecture GGUF models (SmolLM2, the embedded
//! default), on the quantized kernels of [`kernels`](crate::kernels).
//!
//! Why not candle-transformers' `quantized_llama` (which this follows: same GGUF tensor
//! names, metadata keys, interleaved RoPE, RMS norm and SwiGLU; candle is MIT/Apache-2.0):
//! its decode step was the engine's bottleneck. It keeps a 113 MB f32 copy of the token
//! embeddings; it grows the KV cache with `Tensor::cat` at every token (a copy of the whole
//! cache per token and layer); it runs each of the ~20 operations of a layer as a kernel that
//! allocates its result; and candle has no SIMD kernel for Q4_1, SmolLM2's type. Here the
//! weights stay as stored (embeddings are looked up by dequantizing one row, and the tied
//! output head multiplies the quantized table), the KV cache is appended in place, and a
//! token's pass reuses the same buffers. Files this cannot run (other tensor types, mixtures
//! of experts) go through candle's implementation ([`weights`](crate::weights)).

use crate::kernels::{self, ActBlock, QMatrix};
use candle_core::quantized::gguf_file;
use candle_core::{Device, bail};
use std::io::{Read, Seek, SeekFrom};

/// Hyperparameters.
#[derive(Debug, Clone, Copy)]
struct Config {
    dim: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    rope_dim: usize,
    eps: f32,
}

/// One transformer block.
#[derive(Debug)]
struct Layer {
    attn_norm: Vec<f32>,
    wq: QMatrix,
    wk: QMatrix,
    wv: QMatrix,
    wo: QMatrix,
    ffn_norm: Vec<f32>,
    gate: QMatrix,
    up: QMatrix,
    down: QMatrix,
    /// Keys and values of the positions seen so far, `kv_heads × head_dim` values each.
    keys: Vec<f32>,
    values: Vec<f32>,
}

/// A loaded llama model and its KV cache.
#[derive(Debug)]
pub(crate) struct Llama {
    config: Config,
    embeddings: QMatrix,
    /// The output head; `None`: tied to the embeddings.
    output: Option<QMatrix>,
    norm: Vec<f32>,
    layers: Vec<Layer>,
    /// RoPE frequencies, one per pair of rotated dimensions.
    inverse_frequencies: Vec<f32>,
    /// Positions in the KV cache.
    cached: usize,
}

impl Llama {
    /// Loads the model; `Ok(None)` when the file needs something this implementation does not
    /// do (a tensor type without an own kernel, experts), so candle's implementation runs it.
    pub(crate) fn load<R: Read + Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
    ) -> candle_core::Result<Option<Self>> {
        let md = |key: &str| {
            content.metadata.get(key).ok_or_else(|| candle_core::Error::Msg(format!("no {key}")))
        };
        let experts = md("llama.expert_count").and_then(|v| v.to_u32()).unwrap_or(0);
        let matrices = |name: &str| name.starts_with("blk.") || name == "output.weight";
        let unsupported = content.tensor_infos.iter().any(|(name, info)| {
            info.shape.rank() == 2 && matrices(name) && !kernels::supported(info.ggml_dtype)
        });
        let embeddings_type = content.tensor_infos.get("token_embd.weight").map(|i| i.ggml_dtype);
        if experts > 1 || unsupported || !embeddings_type.is_some_and(kernels::supported) {
            return Ok(None);
        }
        let heads = md("llama.attention.head_count")?.to_u32()? as usize;
        let kv_heads = md("llama.attention.head_count_kv")?.to_u32()? as usize;
        let blocks = md("llama.block_count")?.to_u32()? as usize;
        let dim = md("llama.embedding_length")?.to_u32()? as usize;
        let eps = md("llama.attention.layer_norm_rms_epsilon")?.to_f32()?;
        let base = md("llama.rope.freq_base").and_then(|v| v.to_f32()).unwrap_or(10000.0);
        if heads == 0
            || kv_heads == 0
            || !heads.is_multiple_of(kv_heads)
            || !dim.is_multiple_of(heads)
        {
            bail!("inconsistent head counts: {heads} heads, {kv_heads} key/value heads, {dim} wide")
        }
        let head_dim = dim / heads;
        let rope_dim = md("llama.rope.dimension_count")?.to_u32()? as usize;
        if rope_dim > head_dim || !rope_dim.is_multiple_of(2) {
            bail!("RoPE over {rope_dim} dimensions of heads {head_dim} wide")
        }
        let config = Config { dim, heads, kv_heads, head_dim, rope_dim, eps };
        let mut tensors = Tensors { content, reader };
        let embeddings = tensors.matrix("token_embd.weight", None, dim)?;
        let output = if content.tensor_infos.contains_key("output.weight") {
            Some(tensors.matrix("output.weight", Some(embeddings.rows()), dim)?)
        } else {
            None
        };
        let norm = tensors.vector("output_norm.weight", dim)?;
        let kv_dim = kv_heads * head_dim;
        let mut layers = Vec::with_capacity(blocks);
        for i in 0..blocks {
            let name = |part: &str| format!("blk.{i}.{part}.weight");
            let gate = tensors.matrix(&name("ffn_gate"), None, dim)?;
            let hidden = gate.rows();
            layers.push(Layer {
                attn_norm: tensors.vector(&name("attn_norm"), dim)?,
                wq: tensors.matrix(&name("attn_q"), Some(dim), dim)?,
                wk: tensors.matrix(&name("attn_k"), Some(kv_dim), dim)?,
                wv: tensors.matrix(&name("attn_v"), Some(kv_dim), dim)?,
                wo: tensors.matrix(&name("attn_output"), Some(dim), dim)?,
                ffn_norm: tensors.vector(&name("ffn_norm"), dim)?,
                gate,
                up: tensors.matrix(&name("ffn_up"), Some(hidden), dim)?,
                down: tensors.matrix(&name("ffn_down"), Some(dim), hidden)?,
                keys: Vec::new(),
                values: Vec::new(),
            });
        }
        let inverse_frequencies =
            (0..rope_dim / 2).map(|i| 1.0 / base.powf((2 * i) as f32 / rope_dim as f32)).collect();
        Ok(Some(Self { config, embeddings, output, norm, layers, inverse_frequencies, cached: 0 }))
    }

    /// Forgets the KV cache.
    pub(crate) fn clear(&mut self) {
        self.cached = 0;
        for layer in &mut self.layers {
            layer.keys.clear();
            layer.values.clear();
        }
    }

    /// Runs `tokens` at positions `pos..` (after the `pos` cached ones; 0 starts over) and
    /// returns the logits of the last one.
    pub(crate) fn forward(&mut self, tokens: &[u32], pos: usize) -> candle_core::Result<Vec<f32>> {
        let Config { dim, heads, kv_heads, head_dim, .. } = self.config;
        let kv_dim = kv_heads * head_dim;
        if pos > self.cached {
            bail!("position {pos} follows only {} cached positions", self.cached)
        }
        let n = tokens.len();
        if n == 0 {
            bail!("no tokens to run")
        }
        self.cached = pos;
        let vocab = self.embeddings.rows();
        let mut x = vec![0f32; n * dim];
        for (&token, row) in tokens.iter().zip(x.chunks_exact_mut(dim)) {
            if token as usize >= vocab {
                bail!("token {token} is outside the vocabulary ({vocab} tokens)")
            }
            self.embeddings.dequantize_row(token as usize, row);
        }
        // One pass's buffers, reused by every layer.
        let mut h = vec![0f32; n * dim];
        let mut blocks: Vec<ActBlock> = Vec::new();
        let mut q = vec![0f32; n * dim];
        let mut k = vec![0f32; n * kv_dim];
        let mut v = vec![0f32; n * kv_dim];
        let mut attended = vec![0f32; n * dim];
        let mut projected = vec![0f32; n * dim];
        let mut scores = Vec::new();
        let (mut gate, mut up) = (Vec::new(), Vec::new());
        let (cos, sin) = self.rope_tables(pos, n);
        for layer in &mut self.layers {
            rms_norm(&x, &layer.attn_norm, self.config.eps, &mut h);
            kernels::quantize(&h, &mut blocks);
            layer.wq.matmul(&blocks, n, &mut q);
            layer.wk.matmul(&blocks, n, &mut k);
            layer.wv.matmul(&blocks, n, &mut v);
            let half = self.config.rope_dim / 2;
            for t in 0..n {
                let (c, s) = (&cos[t * half..(t + 1) * half], &sin[t * half..(t + 1) * half]);
                q[t * dim..(t + 1) * dim].chunks_exact_mut(head_dim).for_each(|x| rope(x, c, s));
                k[t * kv_dim..(t + 1) * kv_dim]
                    .chunks_exact_mut(head_dim)
                    .for_each(|x| rope(x, c, s));
            }
            layer.keys.truncate(pos * kv_dim);
            layer.values.truncate(pos * kv_dim);
            layer.keys.extend_from_slice(&k);
            layer.values.extend_from_slice(&v);
            let scale = 1.0 / (head_dim as f32).sqrt();
            for t in 0..n {
                let seen = pos + t + 1; // causal: position pos + t sees 0..=pos + t
                for head in 0..heads {
                    let kv = head / (heads / kv_heads) * head_dim;
                    let query = &q[t * dim + head * head_dim..][..head_dim];
                    scores.clear();
                    scores.extend(
                        (0..seen).map(|j| {
                            dot(query, &layer.keys[j * kv_dim + kv..][..head_dim]) * scale
                        }),
                    );
                    softmax(&mut scores);
                    let out = &mut attended[t * dim + head * head_dim..][..head_dim];
                    out.fill(0.0);
                    for (j, &p) in scores.iter().enumerate() {
                        let value = &layer.values[j * kv_dim + kv..][..head_dim];
                        out.iter_mut().zip(value).for_each(|(o, v)| *o += p * v);
                    }
                }
            }
            kernels::quantize(&attended, &mut blocks);
            layer.wo.matmul(&blocks, n, &mut projected);
            x.iter_mut().zip(&projected).for_each(|(x, p)| *x += p);

            rms_norm(&x, &layer.ffn_norm, self.config.eps, &mut h);
            kernels::quantize(&h, &mut blocks);
            let hidden = layer.gate.rows();
            gate.resize(n * hidden, 0.0);
            up.resize(n * hidden, 0.0);
            layer.gate.matmul(&blocks, n, &mut gate);
            layer.up.matmul(&blocks, n, &mut up);
            gate.iter_mut().zip(&up).for_each(|(g, u)| *g = *g / (1.0 + (-*g).exp()) * u);
            kernels::quantize(&gate, &mut blocks);
            layer.down.matmul(&blocks, n, &mut projected);
            x.iter_mut().zip(&projected).for_each(|(x, p)| *x += p);
        }
        self.cached = pos + n;
        let last = &x[(n - 1) * dim..];
        let mut normed = vec![0f32; dim];
        rms_norm(last, &self.norm, self.config.eps, &mut normed);
        kernels::quantize(&normed, &mut blocks);
        let head = self.output.as_ref().unwrap_or(&self.embeddings);
        let mut logits = vec![0f32; head.rows()];
        head.matmul(&blocks, 1, &mut logits);
        Ok(logits)
    }

    /// cos and sin of every rotation angle of positions `pos..pos + n`, position-major.
    fn rope_tables(&self, pos: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
        let angles = (pos..pos + n)
            .flat_map(|p| self.inverse_frequencies.iter().map(move |f| p as f32 * f))
            .collect::<Vec<f32>>();
        (angles.iter().map(|a| a.cos()).collect(), angles.iter().map(|a| a.sin()).collect())
    }
}

/// Reads tensors from the file, checking their shapes.
struct Tensors<'a, R> {
    content: &'a gguf_file::Content,
    reader: &'a mut R,
}

impl<'a, R: Read + Seek> Tensors<'a, R> {
    fn info(&self, name: &str) -> candle_core::Result<&'a gguf_file::TensorInfo> {
        let content: &'a gguf_file::Content = self.content;
        content
            .tensor_infos
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("the file has no tensor `{name}`")))
    }

    fn bytes(&mut self, info: &gguf_file::TensorInfo) -> candle_core::Result<Vec<u8>> {
        let dtype = info.ggml_dtype;
        let size = info.shape.elem_count() / dtype.block_size() * dtype.type_size();
        let mut data = vec![0u8; size];
        self.reader.seek(SeekFrom::Start(self.content.tensor_data_offset + info.offset))?;
        self.reader.read_exact(&mut data)?;
        Ok(data)
    }

    /// A matrix of `cols` columns (and `rows` rows, if given).
    fn matrix(
        &mut self,
        name: &str,
        rows: Option<usize>,
        cols: usize,
    ) -> candle_core::Result<QMatrix> {
        let info = self.info(name)?;
        let (dtype, dims) = (info.ggml_dtype, info.shape.dims().to_vec());
        let shape_ok = dims.len() == 2 && dims[1] == cols && rows.is_none_or(|r| dims[0] == r);
        if !shape_ok {
            bail!("tensor `{name}` has shape {dims:?}, expected {rows:?} × {cols}")
        }
        let data = self.bytes(info)?;
        QMatrix::new(dtype, dims[0], dims[1], data)
            .ok_or_else(|| candle_core::Error::Msg(format!("tensor `{name}`: {dtype:?} {dims:?}")))
    }

    /// A vector of `len` f32 values.
    fn vector(&mut self, name: &str, len: usize) -> candle_core::Result<Vec<f32>> {
        let info = self.info(name)?;
        let values: Vec<f32> = info
            .read(self.reader, self.content.tensor_data_offset, &Device::Cpu)?
            .dequantize(&Device::Cpu)?
            .flatten_all()?
            .to_vec1()?;
        if values.len() != len {
            bail!("tensor `{name}` has {} values, expected {len}", values.len())
        }
        Ok(values)
    }
}

/// `out = x / rms(x) · weight`, row by row (`weight.len()` values a row), as candle computes it.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let dim = weight.len();
    for (x, out) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let sum2: f32 = x.iter().map(|v| v * v).sum();
        let rms = (sum2 / dim as f32 + eps).sqrt();
        for ((o, v), w) in out.iter_mut().zip(x).zip(weight) {
            *o = v / rms * w;
        }
    }
}

/// Rotates the pairs (2i, 2i + 1) of `x` by the angles whose cos and sin are given.
fn rope(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    for ((pair, c), s) in x.chunks_exact_mut(2).zip(cos).zip(sin) {
        let (a, b) = (pair[0], pair[1]);
        pair[0] = a * c - b * s;
        pair[1] = a * s + b * c;
    }
}

/// `a · b`, in 8 lanes (which the compiler vectorizes).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail = a.len() / 8 * 8;
    let rest: f32 = a[tail..].iter().zip(&b[tail..]).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + rest
}

fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        total += *v;
    }
    x.iter_mut().for_each(|v| *v /= total);
}

#[cfg(test)]
mod tests {
    //! Against candle's `quantized_llama` on the embedded model (fetched by the first test that
    //! needs it, as in `tests/local_model.rs`).
    use super::*;
    use candle_core::Tensor;
    use candle_transformers::models::quantized_llama;
    use std::fs::File;
    use std::io::BufReader;

    fn open() -> (gguf_file::Content, BufReader<File>) {
        let path = crate::cache::ModelCache::default_location()
            .expect("cache dir")
            .ensure(&crate::cache::SMOLLM2)
            .expect("the embedded model is available");
        let mut reader = BufReader::new(File::open(path).expect("open the model"));
        let content = gguf_file::Content::read(&mut reader).expect("a GGUF file");
        (content, reader)
    }

    fn argmax(x: &[f32]) -> usize {
        x.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap()
    }

    /// Largest difference, relative to the spread of `b`.
    fn difference(a: &[f32], b: &[f32]) -> f32 {
        let spread = b.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v))
            - b.iter().fold(f32::INFINITY, |m, v| m.min(*v));
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / spread
    }

    #[test]
    fn logits_agree_with_candle_and_the_cache_is_consistent() {
        let (content, mut reader) = open();
        let mut own = Llama::load(&content, &mut reader).unwrap().expect("runs SmolLM2");
        let mut candle =
            quantized_llama::ModelWeights::from_gguf(content, &mut reader, &Device::Cpu).unwrap();
        let prompt = [1u32, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 30, 2, 198];
        let candle_logits = |m: &mut quantized_llama::ModelWeights, t: &[u32], pos| -> Vec<f32> {
            let input = Tensor::new(t, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
            m.forward(&input, pos).unwrap().squeeze(0).unwrap().to_vec1().unwrap()
        };
        let whole = own.forward(&prompt, 0).unwrap();
        let reference = candle_logits(&mut candle, &prompt, 0);
        assert_eq!(argmax(&whole), argmax(&reference));
        // Measured: 2.4 % of the logits' spread (candle rounds activation sums to f16, and
        // computes a prompt's matrices differently); the same top token.
        assert!(difference(&whole, &reference) < 0.05, "{}", difference(&whole, &reference));
        let next = argmax(&whole) as u32;
        let step = own.forward(&[next], prompt.len()).unwrap();
        let reference = candle_logits(&mut candle, &[next], prompt.len());
        assert_eq!(argmax(&step), argmax(&reference));
        assert!(difference(&step, &reference) < 0.05, "{}", difference(&step, &reference));

        // Token by token from a cleared cache: the same logits as the prompt in one pass.
        own.clear();
        let mut last = Vec::new();
        for (pos, &t) in prompt.iter().enumerate() {
            last = own.forward(&[t], pos).unwrap();
        }
        assert!(difference(&last, &whole) < 1e-3, "{}", difference(&last, &whole));
        // Going back to an earlier position replaces what followed it.
        let again = own.forward(&prompt[4..], 4).unwrap();
        assert!(difference(&again, &whole) < 1e-3);
        assert!(own.forward(&[1], 100).is_err(), "a gap in the cache");
        assert!(own.forward(&[u32::MAX], 0).is_err(), "a token outside the vocabulary");
    }
}
