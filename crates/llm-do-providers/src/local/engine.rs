//! The llama.cpp wrapper: one dedicated thread per loaded model.
//!
//! An [`Engine`] owns a thread that finds the model file (fetching the embedded model when
//! needed), checks it, loads it once with llama.cpp and keeps one inference context. Requests
//! are [`Job`]s sent over a channel and served one after the other (FIFO), so concurrent
//! requests are queued, never interleaved on the context. Inference never runs on an async
//! executor: callers await a channel. A job whose receiver is dropped (the request future was
//! cancelled) stops at the next token.
//!
//! Between jobs the context keeps the tokens of the last conversation in its KV cache; a new
//! prompt that starts with them (the next turn of an agent loop) only evaluates the new tail.
//! Requests with a `seed` always evaluate the whole prompt, so that the same seed and
//! conversation give the same output whatever ran before.

use super::cache::{ModelCache, ModelSource};
use super::error::LocalError;
use super::gguf;
use super::prompt::Turn;
use futures::channel::{mpsc, oneshot};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{OnceLock, mpsc as std_mpsc};

/// Where an engine's model comes from.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// An embedded model, fetched into (and verified in) a cache.
    Embedded(ModelSource, ModelCache),
    /// A GGUF file.
    File(PathBuf),
}

/// How the engine runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EngineConfig {
    pub(crate) context_size: u32,
    pub(crate) threads: i32,
}

/// Sampling for one job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sampling {
    pub(crate) temperature: f32,
    pub(crate) top_p: f32,
    pub(crate) seed: Option<u32>,
    pub(crate) max_tokens: u32,
}

/// One generation request.
pub(crate) struct Job {
    pub(crate) turns: Vec<Turn>,
    pub(crate) grammar: Option<String>,
    pub(crate) sampling: Sampling,
    pub(crate) events: mpsc::UnboundedSender<Event>,
}

/// Work for the engine thread.
enum Work {
    Generate(Job),
    /// Answered once the model is loaded (or failed to load).
    Ready(oneshot::Sender<Result<ModelInfo, LocalError>>),
}

/// What the engine reports about a job.
#[derive(Debug)]
pub(crate) enum Event {
    /// More answer text (always whole UTF-8 characters).
    Piece(String),
    /// The job finished.
    Done(Done),
    /// The job failed.
    Failed(LocalError),
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) prompt_tokens: usize,
    pub(crate) output_tokens: usize,
    /// `true` when the token budget (or the context window) ran out before the model stopped.
    pub(crate) truncated: bool,
}

/// Facts about a loaded model, as [`LocalModel::load`](super::LocalModel::load) reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model file.
    pub path: PathBuf,
    /// `general.name` from the file, if any.
    pub name: Option<String>,
    /// `general.architecture` from the file, if any.
    pub architecture: Option<String>,
    /// The context window used, in tokens.
    pub context_size: u32,
    /// Number of parameters.
    pub parameters: u64,
}

/// A handle to an engine thread. Dropping the last handle stops the thread once its queue is
/// empty.
#[derive(Debug)]
pub(crate) struct Engine {
    work: std_mpsc::Sender<Work>,
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Work::Generate(_) => "Generate",
            Work::Ready(_) => "Ready",
        })
    }
}

impl Engine {
    /// Starts the thread; the model is loaded on it, before the first job.
    pub(crate) fn start(location: Location, config: EngineConfig) -> Result<Self, LocalError> {
        let (work, queue) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("llm-do-local".into())
            .spawn(move || run(location, config, queue))
            .map_err(|e| LocalError::Engine { reason: format!("cannot start a thread: {e}") })?;
        Ok(Self { work })
    }

    /// Queues a job; `false` when the thread is gone.
    pub(crate) fn submit(&self, job: Job) -> bool {
        self.work.send(Work::Generate(job)).is_ok()
    }

    /// Waits until the model is loaded.
    pub(crate) async fn ready(&self) -> Result<ModelInfo, LocalError> {
        let (tx, rx) = oneshot::channel();
        let stopped = || LocalError::Engine { reason: "the inference thread stopped".into() };
        self.work.send(Work::Ready(tx)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

/// The process-wide llama.cpp backend (it can be initialised only once per process).
fn backend() -> Result<&'static LlamaBackend, LocalError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp's own log lines go to `tracing` (target `llama-cpp-2`), not stderr.
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LocalError::Engine { reason: format!("cannot initialise llama.cpp: {e}") })
}

fn run(location: Location, config: EngineConfig, queue: std_mpsc::Receiver<Work>) {
    let loaded = catch_unwind(AssertUnwindSafe(|| load(&location))).unwrap_or_else(|_| {
        Err(LocalError::Engine { reason: "loading the model panicked".into() })
    });
    let (backend, model, mut info) = match loaded {
        Ok(x) => x,
        Err(e) => return fail_all(queue, e),
    };
    let context_size = config.context_size.min(model.n_ctx_train().max(1));
    info.context_size = context_size;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(context_size))
        .with_n_threads(config.threads)
        .with_n_threads_batch(config.threads);
    let ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(e) => {
            return fail_all(
                queue,
                LocalError::LoadFailed {
                    path: info.path.clone(),
                    reason: format!("cannot create an inference context: {e}"),
                },
            );
        }
    };
    let template = model.chat_template(None).ok();
    if template.is_none() {
        tracing::warn!(path = %info.path.display(), "the model has no chat template; using ChatML");
    }
    let mut session = Session { model: &model, ctx, template, cached: Vec::new() };
    for work in queue.iter() {
        match work {
            Work::Ready(tx) => {
                let _ = tx.send(Ok(info.clone()));
            }
            Work::Generate(job) => {
                let events = job.events.clone();
                let outcome = catch_unwind(AssertUnwindSafe(|| session.generate(job)));
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e),
                    Err(_) => Some(LocalError::Inference { reason: "inference panicked".into() }),
                };
                if let Some(e) = failure {
                    session.reset();
                    let _ = events.unbounded_send(Event::Failed(e));
                }
            }
        }
    }
}

/// Answers every queued and future request with the load error (until the last handle drops).
fn fail_all(queue: std_mpsc::Receiver<Work>, error: LocalError) {
    tracing::warn!(%error, "local model unavailable");
    for work in queue.iter() {
        match work {
            Work::Ready(tx) => {
                let _ = tx.send(Err(error.clone()));
            }
            Work::Generate(job) => {
                let _ = job.events.unbounded_send(Event::Failed(error.clone()));
            }
        }
    }
}

/// llama.cpp's built-in ChatML template, used when the model's own is missing or unsupported.
fn chatml() -> Result<LlamaChatTemplate, LocalError> {
    LlamaChatTemplate::new("chatml").map_err(|e| LocalError::Inference { reason: e.to_string() })
}

/// Finds, checks and loads the model.
fn load(location: &Location) -> Result<(&'static LlamaBackend, LlamaModel, ModelInfo), LocalError> {
    let path = match location {
        Location::Embedded(source, cache) => cache.ensure(source)?,
        Location::File(path) => path.clone(),
    };
    let header = gguf::inspect(&path)?;
    if path.to_str().is_none() {
        return Err(LocalError::ModelNotFound {
            path,
            reason: "llama.cpp needs a path that is valid UTF-8".into(),
        });
    }
    let backend = backend()?;
    let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default()).map_err(
        |e| LocalError::LoadFailed {
            path: path.clone(),
            reason: format!(
                "{e} (the file is a well-formed GGUF; its architecture `{}` or tensor layout may \
                 not be supported by this llama.cpp; its log is on the `llama-cpp-2` tracing \
                 target)",
                header.architecture.as_deref().unwrap_or("unknown")
            ),
        },
    )?;
    let info = ModelInfo {
        path,
        name: header.name,
        architecture: header.architecture,
        context_size: 0,
        parameters: model.n_params(),
    };
    Ok((backend, model, info))
}

struct Session<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    /// The model's own chat template (`None`: ChatML).
    template: Option<LlamaChatTemplate>,
    /// Tokens whose keys and values are in the context's cache (sequence 0).
    cached: Vec<LlamaToken>,
}

impl Session<'_> {
    fn reset(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.clear();
    }

    fn render(&self, turns: &[Turn]) -> Result<String, LocalError> {
        let messages = turns
            .iter()
            .map(|t| LlamaChatMessage::new(t.role.to_owned(), t.content.replace('\0', "")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LocalError::Inference { reason: format!("bad chat message: {e}") })?;
        if let Some(template) = &self.template {
            match self.model.apply_chat_template(template, &messages, true) {
                Ok(prompt) => return Ok(prompt),
                Err(e) => {
                    tracing::warn!(error = %e, "the model's chat template is not supported; using ChatML");
                }
            }
        }
        self.model
            .apply_chat_template(&chatml()?, &messages, true)
            .map_err(|e| LocalError::Inference { reason: format!("chat template: {e}") })
    }

    fn tokenize(&self, prompt: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(prompt.as_bytes(), true, true);
        // A template that writes the BOS token itself would otherwise get a second one.
        let bos = vocab.bos();
        if tokens.len() >= 2 && tokens[0] == bos && tokens[1] == bos {
            tokens.remove(0);
        }
        tokens
    }

    fn generate(&mut self, job: Job) -> Result<(), LocalError> {
        let prompt = self.render(&job.turns)?;
        let tokens = self.tokenize(&prompt);
        let n_ctx = self.ctx.n_ctx() as usize;
        if tokens.is_empty() {
            return Err(LocalError::Inference { reason: "the prompt is empty".into() });
        }
        if tokens.len() >= n_ctx {
            return Err(LocalError::PromptTooLong { tokens: tokens.len(), context: n_ctx as u32 });
        }
        let sampler = self.sampler(&job)?;
        // Reproducible requests (a seed, or greedy decoding) evaluate their whole prompt: reusing
        // a cached prefix evaluates the rest in batches of another shape, whose floating-point
        // results differ slightly, enough to flip a near-tie between two tokens.
        let reproducible = job.sampling.seed.is_some() || job.sampling.temperature <= 0.0;
        let last_index = self.evaluate_prompt(&tokens, reproducible)?;
        self.sample_loop(job, sampler, tokens.len(), last_index)
    }

    fn sampler(&self, job: &Job) -> Result<LlamaSampler, LocalError> {
        let mut chain = Vec::new();
        if let Some(g) = &job.grammar {
            let grammar = LlamaSampler::grammar(self.model, g, "root").map_err(|e| {
                LocalError::Inference { reason: format!("llama.cpp rejected the grammar: {e}") }
            })?;
            chain.push(grammar);
        }
        let s = job.sampling;
        if s.temperature <= 0.0 {
            chain.push(LlamaSampler::greedy());
        } else {
            chain.push(LlamaSampler::top_k(40));
            chain.push(LlamaSampler::top_p(s.top_p.clamp(0.0, 1.0), 1));
            chain.push(LlamaSampler::temp(s.temperature));
            // u32::MAX asks llama.cpp for a random seed.
            chain.push(LlamaSampler::dist(s.seed.unwrap_or(u32::MAX)));
        }
        Ok(LlamaSampler::chain_simple(chain))
    }

    /// Makes the cache hold `tokens`, evaluating what is not there yet; returns the batch
    /// index of the last token's logits.
    fn evaluate_prompt(&mut self, tokens: &[LlamaToken], fresh: bool) -> Result<i32, LocalError> {
        let mut keep = if fresh {
            0
        } else {
            self.cached.iter().zip(tokens).take_while(|(a, b)| a == b).count()
        };
        // At least one token must be evaluated to get logits.
        keep = keep.min(tokens.len() - 1);
        if keep == 0 {
            self.ctx.clear_kv_cache();
        } else {
            let p0 = u32::try_from(keep).unwrap_or(u32::MAX);
            let removed = self.ctx.clear_kv_cache_seq(Some(0), Some(p0), None).unwrap_or(false);
            if !removed {
                self.ctx.clear_kv_cache();
                keep = 0;
            }
        }
        self.cached.truncate(keep);

        let n_batch = (self.ctx.n_batch() as usize).max(1);
        let mut batch = LlamaBatch::new(n_batch, 1);
        let mut last_index = 0;
        let rest = &tokens[keep..];
        for (chunk_no, chunk) in rest.chunks(n_batch).enumerate() {
            batch.clear();
            for (i, &token) in chunk.iter().enumerate() {
                let pos = keep + chunk_no * n_batch + i;
                let is_last = pos + 1 == tokens.len();
                batch.add(token, pos as i32, &[0], is_last).map_err(inference)?;
                if is_last {
                    last_index = i as i32;
                }
            }
            self.ctx.decode(&mut batch).map_err(|e| {
                self.cached.clear();
                inference(e)
            })?;
            self.cached.extend_from_slice(chunk);
        }
        Ok(last_index)
    }

    fn sample_loop(
        &mut self,
        job: Job,
        mut sampler: LlamaSampler,
        prompt_tokens: usize,
        mut last_index: i32,
    ) -> Result<(), LocalError> {
        let n_ctx = self.ctx.n_ctx() as usize;
        let vocab = self.model.vocab();
        let mut batch = LlamaBatch::new(1, 1);
        let mut pending: Vec<u8> = Vec::new();
        let mut output_tokens = 0usize;
        let mut truncated = false;
        loop {
            if job.events.is_closed() {
                return Ok(()); // cancelled: nobody is listening
            }
            if output_tokens >= job.sampling.max_tokens as usize {
                truncated = true;
                break;
            }
            let token = sampler.sample(&self.ctx, last_index);
            if vocab.is_eog(token) {
                break;
            }
            output_tokens += 1;
            pending.extend(vocab.token_to_piece(token, false, None));
            let valid = match std::str::from_utf8(&pending) {
                Ok(s) => s.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(), // incomplete character
                Err(_) => pending.len(),                              // invalid: flush lossily
            };
            if valid > 0 {
                let piece = String::from_utf8_lossy(&pending[..valid]).into_owned();
                pending.drain(..valid);
                let _ = job.events.unbounded_send(Event::Piece(piece));
            }
            let pos = prompt_tokens + output_tokens - 1;
            if pos + 1 >= n_ctx {
                truncated = true;
                break;
            }
            batch.clear();
            batch.add(token, pos as i32, &[0], true).map_err(inference)?;
            self.ctx.decode(&mut batch).map_err(|e| {
                self.cached.clear();
                inference(e)
            })?;
            self.cached.push(token);
            last_index = 0;
        }
        if !pending.is_empty() {
            let piece = String::from_utf8_lossy(&pending).into_owned();
            let _ = job.events.unbounded_send(Event::Piece(piece));
        }
        let _ = job.events.unbounded_send(Event::Done(Done {
            prompt_tokens,
            output_tokens,
            truncated,
        }));
        Ok(())
    }
}

fn inference(e: impl std::fmt::Display) -> LocalError {
    LocalError::Inference { reason: e.to_string() }
}
