//! The model weights: the own llama forward pass ([`llama`](crate::llama)) where it applies,
//! else candle's quantized GGUF loaders, one per supported architecture.

use crate::llama::Llama;
use crate::requantize;
use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_llama, quantized_qwen2, quantized_qwen3};
use std::io::{Read, Seek};

/// Architectures (`general.architecture`) the engine can run.
pub const SUPPORTED_ARCHITECTURES: [&str; 3] = ["llama", "qwen2", "qwen3"];

/// A loaded model.
pub(crate) enum Weights {
    /// The engine's own implementation ([`llama`](crate::llama)).
    Own(Box<Llama>),
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
}

impl Weights {
    /// Loads the weights of a supported `architecture` (checked by the caller): llama models
    /// whose tensor types the own kernels compute run on [`Llama`]; others on candle's
    /// implementations, with Q4_1 tensors loaded as Q8_0 ([`requantize`](crate::requantize)).
    pub(crate) fn load<R: Read + Seek>(
        architecture: &str,
        mut content: gguf_file::Content,
        reader: &mut R,
    ) -> candle_core::Result<Self> {
        if architecture == "llama"
            && let Some(model) = Llama::load(&content, reader)?
        {
            return Ok(Weights::Own(Box::new(model)));
        }
        match requantize::q4_1_as_q8_0(&mut content, &mut *reader) {
            Some(mut requantized) => Self::load_as_is(architecture, content, &mut requantized),
            None => Self::load_as_is(architecture, content, reader),
        }
    }

    fn load_as_is<R: Read + Seek>(
        architecture: &str,
        content: gguf_file::Content,
        reader: &mut R,
    ) -> candle_core::Result<Self> {
        let device = Device::Cpu;
        Ok(match architecture {
            "qwen2" => {
                Weights::Qwen2(quantized_qwen2::ModelWeights::from_gguf(content, reader, &device)?)
            }
            "qwen3" => {
                Weights::Qwen3(quantized_qwen3::ModelWeights::from_gguf(content, reader, &device)?)
            }
            _ => {
                Weights::Llama(quantized_llama::ModelWeights::from_gguf(content, reader, &device)?)
            }
        })
    }

    /// The longest sequence the loader's position tables cover (`None`: the file's own
    /// context length applies).
    pub(crate) fn max_positions(&self) -> Option<usize> {
        match self {
            Weights::Llama(_) => Some(quantized_llama::MAX_SEQ_LEN),
            _ => None,
        }
    }

    /// Runs `tokens` (starting at position `pos`) and returns the logits of the last one.
    pub(crate) fn forward(&mut self, tokens: &[u32], pos: usize) -> candle_core::Result<Vec<f32>> {
        let input = || Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0);
        let logits = match self {
            Weights::Own(m) => return m.forward(tokens, pos),
            Weights::Llama(m) => m.forward(&input()?, pos)?,
            Weights::Qwen2(m) => m.forward(&input()?, pos)?,
            Weights::Qwen3(m) => m.forward(&input()?, pos)?,
        };
        logits.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec1()
    }

    /// Forgets the cached keys and values (a new sequence starts at position 0).
    pub(crate) fn clear(&mut self) {
        match self {
            Weights::Llama(m) => m.clear_kv_cache(),
            Weights::Qwen2(m) => m.clear_kv_cache(),
            Weights::Qwen3(m) => m.clear_kv_cache(),
            Weights::Own(m) => m.clear(),
        }
    }
}
