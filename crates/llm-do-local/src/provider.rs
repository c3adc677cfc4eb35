//! [`LocalModel`]: the [`Model`] implementation behind `local:…` model strings.
//!
//! (Over 400 lines: the provider's request path — prompt, sampling, constraint, streaming and
//! its typed errors — is one flow; about a quarter is documentation.)

use crate::cache::{EMBEDDED, ModelCache};
use crate::engine::{Done, Engine, EngineConfig, Event, Job, Location, ModelInfo};
use crate::error::LocalError;
use crate::prompt::{self, Answer};
use crate::sampler::Sampling;
use futures::StreamExt;
use futures::future::BoxFuture;
use llm_do_core::{
    DeltaSink, Model, ModelError, ModelRequest, ModelResponse, OutputMode, StreamDelta, ToolCall,
    Usage,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Default temperature when a request sets none: low, because small models wander.
pub const DEFAULT_TEMPERATURE: f32 = 0.2;
/// Default nucleus-sampling threshold when a request sets none.
pub const DEFAULT_TOP_P: f32 = 0.95;
/// Default token budget of one answer when a request sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 512;
/// Default context window (capped at what the model was trained with).
pub const DEFAULT_CONTEXT_SIZE: u32 = 4096;

/// The embedded local model provider: runs GGUF models in-process (candle, pure Rust).
///
/// Register it as the `local` provider; model names are `smollm2` (the embedded default,
/// fetched once into the cache, see [`cache`](crate::cache)) or a path to a `.gguf` file
/// (`local:/models/qwen.gguf`, `local:~/m.gguf`, `local:./m.gguf`).
///
/// Each model is loaded once per process, on its own thread (with a pool of inference
/// threads), and shared by every `LocalModel` and runtime that uses it with the same context
/// size and thread count; concurrent requests are served one after the other, in order.
/// Structured output and tool calls are decoded under grammars derived from their JSON
/// Schemas (see [`prompt`](crate::prompt)), so even a 135M-parameter model answers in the
/// required shape. `temperature`, `top_p`, `max_tokens`, `seed` and, for text answers
/// without tools, `stop` are honoured (an out-of-range value, or stop sequences beyond
/// [`ModelSettings::check_stop`](llm_do_core::ModelSettings::check_stop)'s bounds, is a
/// [`LocalError::InvalidSetting`], before anything is loaded or generated); the same `seed`
/// (or temperature 0) and conversation give the same answer, byte for byte.
///
/// ```no_run
/// use llm_do_core::{Message, Model, ModelRequest, ModelSettings};
/// use llm_do_local::LocalModel;
/// # async fn demo() -> Result<(), llm_do_core::ModelError> {
/// let model = LocalModel::new();
/// let request = ModelRequest::new("smollm2", vec![Message::user("Say hello.")])
///     .with_settings(ModelSettings { seed: Some(7), max_tokens: Some(32), ..Default::default() });
/// let answer = model.request(&request).await?;
/// println!("{}", answer.text.unwrap_or_default());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LocalModel {
    cache_dir: Option<PathBuf>,
    context_size: u32,
    threads: Option<u32>,
    max_tokens: u32,
    temperature: f32,
    avoid_repeated_calls: bool,
}

impl Default for LocalModel {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalModel {
    /// A provider with the default cache, context size ([`DEFAULT_CONTEXT_SIZE`]) and as many
    /// inference threads as the machine has cores (at most 8).
    pub fn new() -> Self {
        Self {
            cache_dir: None,
            context_size: DEFAULT_CONTEXT_SIZE,
            threads: None,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: DEFAULT_TEMPERATURE,
            avoid_repeated_calls: false,
        }
    }

    /// Caches (and looks for) embedded models in `dir` instead of the default cache directory.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Sets the context window in tokens (capped at the model's training context).
    pub fn with_context_size(mut self, tokens: u32) -> Self {
        self.context_size = tokens.max(64);
        self
    }

    /// Sets the number of threads of the engine's own pool (default: the machine's cores, at
    /// most 8), on which the own llama forward pass (SmolLM2) splits its matrices. Models that
    /// run on candle (the Qwen families, llama files of other quantizations) use candle's
    /// process-wide pool instead, sized by the `CANDLE_NUM_THREADS` environment variable
    /// (default: physical cores); on a machine busy with other work, `CANDLE_NUM_THREADS=1`
    /// is much faster (its threads spin).
    pub fn with_threads(mut self, threads: u32) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// Sets the token budget of answers whose request sets no `max_tokens`.
    pub fn with_default_max_tokens(mut self, tokens: u32) -> Self {
        self.max_tokens = tokens.max(1);
        self
    }

    /// Sets the temperature of requests that set none (default [`DEFAULT_TEMPERATURE`]). Like
    /// a request's own, it must be a finite number of at least 0: otherwise such requests fail
    /// with [`LocalError::InvalidSetting`].
    pub fn with_default_temperature(mut self, temperature: f32) -> Self {
        self.temperature = temperature;
        self
    }

    /// Steers the model away from repeating a tool call already answered in the conversation
    /// (same tool, same arguments), which small models loop on: such a call is decoded again
    /// with that tool excluded from the grammar, and so on while the new call repeats one too
    /// (each round excludes one more tool, so it ends). Off by default: it changes what the
    /// model says, so a program opts in (the default local provider of `llm-do`'s setup does).
    pub fn avoid_repeated_calls(mut self, on: bool) -> Self {
        self.avoid_repeated_calls = on;
        self
    }

    /// Loads the model `name` (fetching the embedded one if needed) and reports what was
    /// loaded; requests load it on first use anyway. Useful to fail fast, e.g. in a server.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), llm_do_local::LocalError> {
    /// let info = llm_do_local::LocalModel::new().load("smollm2").await?;
    /// println!("{} parameters, {} tokens of context", info.parameters, info.context_size);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn load(&self, name: &str) -> Result<ModelInfo, LocalError> {
        let (key, engine) = self.engine(name)?;
        let result = engine.ready().await;
        if result.is_err() {
            forget(&key, &engine);
        }
        result
    }

    fn location(&self, name: &str) -> Result<Location, LocalError> {
        let name = name.trim();
        if let Some(source) = EMBEDDED.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
            let cache = match &self.cache_dir {
                Some(dir) => ModelCache::new(dir),
                None => ModelCache::default_location()?,
            };
            return Ok(Location::Embedded(*source, cache));
        }
        let looks_like_path = name.ends_with(".gguf")
            || name.contains('/')
            || name.contains(std::path::MAIN_SEPARATOR)
            || name.starts_with('~');
        if !looks_like_path {
            return Err(LocalError::UnknownModel { name: name.to_owned() });
        }
        let path = match name.strip_prefix("~/") {
            Some(rest) => match std::env::var_os("HOME") {
                Some(home) => PathBuf::from(home).join(rest),
                None => PathBuf::from(name),
            },
            None => PathBuf::from(name),
        };
        Ok(Location::File(path))
    }

    fn config(&self) -> EngineConfig {
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2).min(8)
        });
        EngineConfig { context_size: self.context_size, threads: threads as usize }
    }

    /// The shared engine for `name`, started if needed.
    fn engine(&self, name: &str) -> Result<(String, Arc<Engine>), LocalError> {
        let location = self.location(name)?;
        let config = self.config();
        let key = match &location {
            Location::Embedded(source, cache) => {
                format!("embedded:{}@{}", source.name, cache.dir().display())
            }
            Location::File(path) => {
                let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                format!("file:{}", path.display())
            }
        };
        let key = format!("{key}|ctx={}|threads={}", config.context_size, config.threads);
        let mut engines = registry().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = engines.get(&key) {
            return Ok((key, engine.clone()));
        }
        let engine = Arc::new(Engine::start(location, config)?);
        engines.insert(key.clone(), engine.clone());
        Ok((key, engine))
    }

    /// The request's sampling, checked, and its stop sequences checked against the bounds
    /// every entry point applies (`ModelSettings::check_stop`):
    /// a request built in code reaches the provider unchecked, and each generated token is
    /// scanned for every sequence.
    fn sampling(&self, request: &ModelRequest) -> Result<Sampling, LocalError> {
        let s = &request.settings;
        s.check_stop().map_err(|e| LocalError::InvalidSetting {
            setting: "stop".into(),
            reason: e.to_string(),
        })?;
        Sampling::checked(
            s.temperature.unwrap_or(self.temperature),
            s.top_p.unwrap_or(DEFAULT_TOP_P),
            s.seed,
            s.max_tokens.unwrap_or(self.max_tokens),
        )
    }

    async fn run(
        &self,
        request: &ModelRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<ModelResponse, LocalError> {
        let prepared = prompt::prepare(request)?;
        let sampling = self.sampling(request)?;
        // Without tools, text streams as it comes; with tools, the answer is a JSON envelope
        // and is reported once complete.
        let text_sink = if prepared.tools { None } else { sink };
        let grammar = prepared.grammar.clone();
        let (mut text, mut done) =
            self.generate(request, &prepared, grammar, sampling, text_sink).await?;
        let mut usage = Usage::tokens(done.prompt_tokens as u64, done.output_tokens as u64);

        let mut answer = self.read_answer(request, &prepared, &text, &done, sampling)?;
        // With `avoid_repeated_calls`: a call identical to one already answered in this
        // conversation would only get the same result again (small models loop on it): decode
        // the turn again without that tool, and so on while the new call is a repeat too. Each
        // round excludes one more tool, so this ends (at worst with `final_answer`, which is
        // never excluded).
        let mut excluded: Vec<String> = Vec::new();
        while let Answer::Call { name, arguments } = &answer {
            if !self.avoid_repeated_calls
                || !prompt::is_repeat(request, name, arguments)
                || excluded.contains(name)
            {
                break;
            }
            excluded.push(name.clone());
            let grammar = prompt::grammar_for(
                &request.tools,
                &request.output,
                &excluded,
                request.tool_required,
            )?;
            (text, done) = self.generate(request, &prepared, grammar, sampling, None).await?;
            usage.input_tokens += done.prompt_tokens as u64;
            usage.output_tokens += done.output_tokens as u64;
            answer = self.read_answer(request, &prepared, &text, &done, sampling)?;
        }

        let mut response = match answer {
            Answer::Text(t) => {
                if let (Some(sink), true) = (sink, prepared.tools) {
                    sink.delta(StreamDelta::Text { text: t.clone() });
                }
                ModelResponse::text(t)
            }
            Answer::Call { name, arguments } => {
                let id = format!("call_{}", next_call_id());
                if let Some(sink) = sink {
                    sink.delta(StreamDelta::ToolCall {
                        index: 0,
                        id: Some(id.clone()),
                        name: Some(name.clone()),
                        arguments: arguments.clone(),
                    });
                }
                ModelResponse::tool_calls(vec![ToolCall::raw(id, name, arguments)])
            }
        };
        let reason = if done.truncated {
            "length"
        } else if response.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        };
        response.finish_reason = Some(reason.to_owned());
        response.model = Some(request.model.clone());
        Ok(response.with_usage(usage))
    }

    /// Reads the answer back; a text answer cut off by the token budget is kept as far as it
    /// got, a cut-off tool call or JSON answer is an error.
    fn read_answer(
        &self,
        request: &ModelRequest,
        prepared: &prompt::Prepared,
        text: &str,
        done: &Done,
        sampling: Sampling,
    ) -> Result<Answer, LocalError> {
        match prompt::parse_answer(text, prepared.tools, &request.output) {
            Ok(answer) => Ok(answer),
            Err(e) if done.truncated => {
                if matches!(request.output, OutputMode::Text)
                    && let Some(partial) = prompt::salvage_text_answer(text)
                {
                    return Ok(Answer::Text(partial));
                }
                Err(LocalError::BudgetExhausted {
                    max_tokens: sampling.max_tokens,
                    reason: e.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Runs one generation on the model's engine; pieces go to `sink` as they come.
    async fn generate(
        &self,
        request: &ModelRequest,
        prepared: &prompt::Prepared,
        grammar: Option<String>,
        sampling: Sampling,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<(String, Done), LocalError> {
        let (mut key, mut engine) = self.engine(&request.model)?;
        let (events, mut received) = futures::channel::mpsc::unbounded();
        // Stop sequences end a text answer; a JSON answer or a tool call is whole or nothing.
        let stop: &[String] = if !prepared.tools && matches!(request.output, OutputMode::Text) {
            &request.settings.stop
        } else {
            &[]
        };
        let job = |events| Job {
            turns: prepared.turns.clone(),
            grammar: grammar.clone(),
            sampling,
            stop: stop.to_vec(),
            events,
        };
        if !engine.submit(job(events.clone())) {
            // The thread is gone (it should not be): start a fresh one, once.
            forget(&key, &engine);
            (key, engine) = self.engine(&request.model)?;
            if !engine.submit(job(events.clone())) {
                forget(&key, &engine);
                return Err(LocalError::Engine {
                    reason: "the inference thread is not running".into(),
                });
            }
        }
        drop(events);

        let mut text = String::new();
        while let Some(event) = received.next().await {
            match event {
                Event::Piece(piece) => {
                    if let Some(sink) = sink {
                        sink.delta(StreamDelta::Text { text: piece.clone() });
                    }
                    text.push_str(&piece);
                }
                Event::Done(done) => return Ok((text, done)),
                Event::Failed(e) => {
                    if e.is_load_error() {
                        forget(&key, &engine);
                    }
                    return Err(e);
                }
            }
        }
        forget(&key, &engine);
        Err(LocalError::Engine { reason: "the inference thread stopped unexpectedly".into() })
    }
}

impl Model for LocalModel {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move { self.run(request, None).await.map_err(ModelError::from) })
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move { self.run(request, Some(sink)).await.map_err(ModelError::from) })
    }
}

/// Engines by model and configuration, shared by the whole process.
fn registry() -> &'static Mutex<HashMap<String, Arc<Engine>>> {
    static ENGINES: OnceLock<Mutex<HashMap<String, Arc<Engine>>>> = OnceLock::new();
    ENGINES.get_or_init(Default::default)
}

/// Drops the engine registered under `key` if it is still `engine` (so the next request
/// starts a fresh one).
fn forget(key: &str, engine: &Arc<Engine>) {
    let mut engines = registry().lock().unwrap_or_else(|p| p.into_inner());
    if engines.get(key).is_some_and(|e| Arc::ptr_eq(e, engine)) {
        engines.remove(key);
    }
}

fn next_call_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
