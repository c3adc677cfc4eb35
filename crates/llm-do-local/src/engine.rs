//! The inference engine: one dedicated thread per loaded model.
//!
//! An [`Engine`] owns a thread that finds the model file (fetching the embedded model when
//! needed), checks it ([`gguf`](crate::gguf)), loads it once with candle and serves
//! [`Job`]s sent over a channel one after the other (FIFO): concurrent requests queue, none
//! starves, and none runs on an async executor (callers await a channel). The thread runs its
//! tensor kernels on a rayon pool of its own, sized by [`EngineConfig::threads`]. A job whose
//! receiver is dropped (the request future was cancelled) stops before its next token.
//!
//! Every job evaluates its whole prompt from position 0, so a request's answer depends only on
//! the request: greedy decoding (temperature 0) and a fixed seed are reproducible byte for
//! byte, whatever ran before. Each token is chosen under the job's grammar
//! ([`grammar`](crate::grammar)): tokens the grammar forbids are masked out before sampling.
//!
//! (Just over 400 lines: the thread's whole life — loading, the queue, and one job's prompt,
//! decoding loop, stop sequences and timings — in one place, so that what happens between two
//! tokens reads top to bottom; the kernels, weights, grammar and sampling are modules of their
//! own.)

use crate::cache::{ModelCache, ModelSource};
use crate::error::LocalError;
use crate::gguf;
use crate::grammar;
use crate::prompt::Turn;
use crate::sampler::{Rng, Sampling, sample};
use crate::stop::{Scanned, StopScan};
use crate::template::ChatTemplate;
use crate::vocab::Vocab;
use crate::weights::{SUPPORTED_ARCHITECTURES, Weights};
use candle_core::quantized::gguf_file;
use futures::channel::{mpsc, oneshot};
use llguidance::ParserFactory;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

/// The `tracing` target of the debug event that reports each generation's timings: fields
/// `prompt_tokens`, `output_tokens`, `prompt_us` (evaluating the prompt), `decode_us` (from
/// the prompt's logits to the last token), `grammar_compile_us` (compiling the request's
/// grammar, before the prompt) and `grammar_mask_us` (computing and applying the grammar's
/// token masks: part of `decode_us`).
pub const TIMINGS: &str = "llm_do_local::timings";

/// Prompt tokens evaluated in one forward pass (bounds the attention mask's size).
const PROMPT_CHUNK: usize = 512;

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
    pub(crate) threads: usize,
}

/// One generation request.
pub(crate) struct Job {
    pub(crate) turns: Vec<Turn>,
    /// An llguidance (Lark) grammar the answer must match.
    pub(crate) grammar: Option<String>,
    pub(crate) sampling: Sampling,
    /// Stop sequences of a text answer (see [`crate::stop`]).
    pub(crate) stop: Vec<String>,
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

/// Facts about a loaded model, as [`LocalModel::load`](crate::LocalModel::load) reports them.
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

impl Engine {
    /// Starts the thread; the model is loaded on it, before the first job.
    pub(crate) fn start(location: Location, config: EngineConfig) -> Result<Self, LocalError> {
        let (work, queue) = std_mpsc::channel();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads.max(1))
            .thread_name(|i| format!("llm-do-local-{i}"))
            .build()
            .map_err(|e| LocalError::Engine { reason: format!("cannot start threads: {e}") })?;
        std::thread::Builder::new()
            .name("llm-do-local".into())
            .spawn(move || pool.install(|| run(location, config, queue)))
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

fn run(location: Location, config: EngineConfig, queue: std_mpsc::Receiver<Work>) {
    let loaded = catch_unwind(AssertUnwindSafe(|| load(&location, config))).unwrap_or_else(|_| {
        Err(LocalError::Engine { reason: "loading the model panicked".into() })
    });
    let mut session = match loaded {
        Ok(session) => session,
        Err(e) => return fail_all(queue, e),
    };
    for work in queue.iter() {
        match work {
            Work::Ready(tx) => {
                let _ = tx.send(Ok(session.info.clone()));
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
                    session.weights.clear();
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

/// Finds, checks and loads the model.
fn load(location: &Location, config: EngineConfig) -> Result<Session, LocalError> {
    let path = match location {
        Location::Embedded(source, cache) => cache.ensure(source)?,
        Location::File(path) => path.clone(),
    };
    let header = gguf::inspect(&path)?;
    let architecture = header.architecture.clone().unwrap_or_default();
    if !SUPPORTED_ARCHITECTURES.contains(&architecture.as_str()) {
        let architecture = if architecture.is_empty() { "(none)".to_owned() } else { architecture };
        return Err(LocalError::UnsupportedArchitecture { path, architecture });
    }
    let load_failed = |reason: String| LocalError::LoadFailed { path: path.clone(), reason };
    let (file, _) = gguf::open(&path)?;
    let mut reader = BufReader::new(file);
    let mut content = gguf_file::Content::read(&mut reader)
        .map_err(|e| LocalError::InvalidGguf { path: path.clone(), reason: candle_reason(&e) })?;
    let parameters = content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum();
    let context_key = format!("{architecture}.context_length");
    let trained =
        content.metadata.get(&context_key).and_then(|v| v.to_u32().ok()).unwrap_or(u32::MAX);
    let mut context_size = config.context_size.min(trained.max(1));
    // candle's loaders size their tables of RoPE angles by the file's context length (4e9
    // positions in a hostile file: tens of GiB, and the process aborts): they are told the
    // window the engine uses, no position beyond which is ever run.
    if let Some(length) = content.metadata.get_mut(&context_key) {
        *length = gguf_file::Value::U32(context_size);
    }
    let vocab = Vocab::from_gguf(&content).map_err(load_failed)?;
    let template_source =
        content.metadata.get("tokenizer.chat_template").and_then(|v| v.to_string().ok()).cloned();
    let template = ChatTemplate::new(
        template_source.as_deref(),
        vocab.bos_text.clone(),
        vocab.eos_text.clone(),
    );
    let factory = grammar::factory(vocab.env()).map_err(load_failed)?;
    let weights = Weights::load(&architecture, content, &mut reader)
        .map_err(|e| load_failed(candle_reason(&e)))?;
    if let Some(max) = weights.max_positions() {
        context_size = context_size.min(max as u32);
    }
    let info = ModelInfo {
        path,
        name: header.name,
        architecture: Some(architecture),
        context_size,
        parameters,
    };
    Ok(Session { weights, vocab, template, factory, info })
}

/// A loaded model and what serves it.
struct Session {
    weights: Weights,
    vocab: Vocab,
    template: ChatTemplate,
    factory: ParserFactory,
    info: ModelInfo,
}

impl Session {
    fn generate(&mut self, job: Job) -> Result<(), LocalError> {
        // Messages are text: only the template's own markers become control tokens.
        let turns: Vec<Turn> = job
            .turns
            .iter()
            .map(|t| Turn { role: t.role, content: self.vocab.as_plain_text(&t.content).into() })
            .collect();
        let prompt = self.template.render(&turns).map_err(|e| LocalError::ChatTemplate {
            path: self.info.path.clone(),
            reason: e.to_string(),
        })?;
        let tokens = self.vocab.encode(&prompt).map_err(inference)?;
        let n_ctx = self.info.context_size as usize;
        if tokens.is_empty() {
            return Err(LocalError::Inference { reason: "the prompt is empty".into() });
        }
        if tokens.len() >= n_ctx {
            return Err(LocalError::PromptTooLong { tokens: tokens.len(), context: n_ctx as u32 });
        }
        let started = Instant::now();
        let mut matcher =
            job.grammar.as_deref().map(|g| grammar::matcher(&self.factory, g)).transpose()?;
        let compile_time = started.elapsed();
        let mut mask_time = Duration::ZERO;
        let mut rng = Rng::new(job.sampling.seed);

        self.weights.clear();
        let mut logits = Vec::new();
        for (i, chunk) in tokens.chunks(PROMPT_CHUNK).enumerate() {
            if job.events.is_closed() {
                return Ok(()); // cancelled
            }
            logits = self
                .weights
                .forward(chunk, i * PROMPT_CHUNK)
                .map_err(|e| inference(candle_reason(&e)))?;
        }
        let prompt_time = started.elapsed() - compile_time;
        let decoding = Instant::now();

        let mut pending: Vec<u8> = Vec::new();
        let mut stops = StopScan::new(&job.stop);
        let mut stopped = false;
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
            let masking = Instant::now();
            if let Some(m) = matcher.as_mut() {
                if m.is_stopped() {
                    break; // the grammar is complete
                }
                let mask = match m.compute_mask() {
                    Ok(mask) => mask,
                    Err(e) => return Err(grammar::decoding_error(job_grammar(&job), e)),
                };
                for (i, l) in logits.iter_mut().enumerate() {
                    if i >= self.vocab.len() || !mask.is_allowed(i as u32) {
                        *l = f32::NEG_INFINITY;
                    }
                }
                mask_time += masking.elapsed();
            }
            let Some(token) = sample(&logits, &job.sampling, &mut rng) else {
                return Err(inference("no token is allowed here"));
            };
            if self.vocab.is_stop(token) {
                break;
            }
            if let Some(m) = matcher.as_mut() {
                let consuming = Instant::now();
                if let Err(e) = m.consume_token(token) {
                    return Err(grammar::decoding_error(job_grammar(&job), e));
                }
                mask_time += consuming.elapsed();
            }
            output_tokens += 1;
            pending.extend_from_slice(self.vocab.bytes(token));
            let valid = match std::str::from_utf8(&pending) {
                Ok(s) => s.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(), // incomplete character
                Err(_) => pending.len(),                              // invalid: flush lossily
            };
            if valid > 0 {
                let piece = String::from_utf8_lossy(&pending[..valid]).into_owned();
                pending.drain(..valid);
                match stops.push(piece) {
                    Scanned::Go(text) => send_piece(&job, text),
                    Scanned::Stop(text) => {
                        send_piece(&job, text);
                        stopped = true;
                        break;
                    }
                }
            }
            let pos = tokens.len() + output_tokens - 1;
            if pos + 1 >= n_ctx {
                truncated = true;
                break;
            }
            logits =
                self.weights.forward(&[token], pos).map_err(|e| inference(candle_reason(&e)))?;
        }
        if !stopped {
            let rest = match stops.push(String::from_utf8_lossy(&pending).into_owned()) {
                Scanned::Go(text) => text + &stops.finish(),
                Scanned::Stop(text) => text,
            };
            send_piece(&job, rest);
        }
        // For benchmarks (`llm-do-bench local` reads these fields): where the time went.
        tracing::debug!(
            target: TIMINGS,
            prompt_tokens = tokens.len(),
            output_tokens,
            prompt_us = prompt_time.as_micros() as u64,
            decode_us = decoding.elapsed().as_micros() as u64,
            grammar_compile_us = compile_time.as_micros() as u64,
            grammar_mask_us = mask_time.as_micros() as u64,
            "generation timings"
        );
        let _ = job.events.unbounded_send(Event::Done(Done {
            prompt_tokens: tokens.len(),
            output_tokens,
            truncated,
        }));
        Ok(())
    }
}

/// Sends a piece of the answer, unless it is empty.
fn send_piece(job: &Job, piece: String) {
    if !piece.is_empty() {
        let _ = job.events.unbounded_send(Event::Piece(piece));
    }
}

/// The grammar of a job that has a matcher.
fn job_grammar(job: &Job) -> &str {
    job.grammar.as_deref().unwrap_or_default()
}

fn inference(e: impl std::fmt::Display) -> LocalError {
    LocalError::Inference { reason: e.to_string() }
}

/// What a candle error says, without the backtrace candle appends to it when `RUST_BACKTRACE`
/// is set (a user is shown the reason, not the engine's stack).
pub(crate) fn candle_reason(e: &candle_core::Error) -> String {
    // candle nests at most a few layers; the bound only keeps a recursion a recursion with an end.
    fn reason(e: &candle_core::Error, depth: usize) -> String {
        match e {
            _ if depth > 16 => e.to_string(),
            candle_core::Error::WithBacktrace { inner, .. } => reason(inner, depth + 1),
            candle_core::Error::Context { inner, context } => {
                format!("{}\n{context}", reason(inner, depth + 1))
            }
            candle_core::Error::WithPath { inner, path } => {
                format!("path: {path:?} {}", reason(inner, depth + 1))
            }
            other => other.to_string(),
        }
    }
    reason(e, 0)
}

#[cfg(test)]
mod tests;
