//! Model resolution: which backend serves a [`ModelRef`], in one place for the agent loop,
//! [`RuntimeBuilder::try_build`](crate::RuntimeBuilder::try_build)'s checks and the CLI's
//! `serve`.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::model_ref::ModelRef;
use crate::runtime::{Runtime, RuntimeInner};
use std::sync::Arc;

/// A model resolved by [`Runtime::resolve_model`]: the backend, the model name sent to it, and
/// the `provider:name` label used in events and errors.
#[derive(Clone)]
pub struct ResolvedModel {
    pub(crate) model: Arc<dyn Model>,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) provider: String,
}

impl std::fmt::Debug for ResolvedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedModel")
            .field("label", &self.label)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ResolvedModel {
    /// The backend.
    ///
    /// ```
    /// # use llm_do_core::{Model, ModelError, ModelRef, ModelRequest, ModelResponse, Runtime};
    /// # struct Echo;
    /// # impl Model for Echo {
    /// #     fn request<'a>(&'a self, _: &'a ModelRequest) -> futures::future::BoxFuture<'a, Result<ModelResponse, ModelError>> {
    /// #         Box::pin(async { Ok(ModelResponse::text("hi")) })
    /// #     }
    /// # }
    /// let rt = Runtime::builder().provider("echo", Echo).build();
    /// let m = rt.resolve_model(&ModelRef::parse("echo:any").unwrap()).unwrap();
    /// assert!(!m.model().input_capabilities().images);
    /// ```
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// The model name sent to the backend (after the `:`; `override`'s own name under a
    /// [`model_override`](crate::RuntimeBuilder::model_override) when the worker names none).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `provider:name`, as events and errors show it (`override:name` under an override).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The provider name.
    pub fn provider(&self) -> &str {
        &self.provider
    }
}

/// The runtime's default model: parsed when the runtime is built; the string is kept so that
/// [`Runtime::default_model`] shows it and an error names a malformed one.
#[derive(Debug, Clone)]
pub(crate) struct Fallback {
    text: String,
    model: Option<ModelRef>,
}

impl Fallback {
    pub(crate) fn parse(model: &str) -> Self {
        Self { text: model.to_owned(), model: ModelRef::parse(model).ok() }
    }

    /// The string as given.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    fn model(&self) -> Result<&ModelRef> {
        match &self.model {
            Some(m) => Ok(m),
            None => Err(ModelRef::parse(&self.text).err().unwrap_or_else(|| Error::InvalidModel {
                model: self.text.clone(),
                reason: "malformed".into(),
            })),
        }
    }
}

impl Runtime {
    /// The backend that serves `model`: the [`model_override`] if there is one, else the
    /// provider registered under `model.provider()`. Fails with [`Error::UnknownProvider`] or
    /// [`Error::ProviderUnavailable`]. Workers resolve their models through this too.
    ///
    /// [`model_override`]: crate::RuntimeBuilder::model_override
    ///
    /// ```
    /// # use llm_do_core::{Error, Model, ModelError, ModelRef, ModelRequest, ModelResponse, Runtime};
    /// # struct Echo;
    /// # impl Model for Echo {
    /// #     fn request<'a>(&'a self, _: &'a ModelRequest) -> futures::future::BoxFuture<'a, Result<ModelResponse, ModelError>> {
    /// #         Box::pin(async { Ok(ModelResponse::text("hi")) })
    /// #     }
    /// # }
    /// let rt = Runtime::builder()
    ///     .provider("echo", Echo)
    ///     .unavailable_provider("cloud", "CLOUD_KEY is not set")
    ///     .build();
    /// let m = rt.resolve_model(&ModelRef::parse("echo:big").unwrap()).unwrap();
    /// assert_eq!((m.label(), m.name(), m.provider()), ("echo:big", "big", "echo"));
    /// // A provider that could not be set up is named among the known ones.
    /// let err = rt.resolve_model(&ModelRef::parse("other:x").unwrap()).unwrap_err();
    /// assert!(matches!(err, Error::UnknownProvider { ref known, .. } if known == &["cloud", "echo"]));
    /// let err = rt.resolve_model(&ModelRef::parse("cloud:x").unwrap()).unwrap_err();
    /// assert!(err.to_string().contains("CLOUD_KEY is not set"));
    /// ```
    pub fn resolve_model(&self, model: &ModelRef) -> Result<ResolvedModel> {
        self.inner.resolve_model("", Some(model))
    }

    /// Checks, for [`try_build`](crate::RuntimeBuilder::try_build), that the default model
    /// parses and that every registered worker's model resolves.
    pub(crate) fn check_models(&self) -> Result<()> {
        if let Some(fallback) = &self.inner.fallback_model {
            fallback.model()?;
        }
        if self.inner.model_override.is_some() {
            return Ok(());
        }
        for spec in self.inner.registry.iter() {
            if let Some(model) = spec.worker().and_then(|w| w.model.as_ref()) {
                self.inner.resolve_model(spec.name(), Some(model))?;
            }
        }
        Ok(())
    }
}

impl RuntimeInner {
    /// Picks the model for a worker: the override, else the worker's own model, else the
    /// runtime's default.
    pub(crate) fn resolve_model(
        &self,
        worker: &str,
        model: Option<&ModelRef>,
    ) -> Result<ResolvedModel> {
        let chosen = match (model, &self.fallback_model) {
            (Some(m), _) => Some(m),
            (None, Some(fallback)) => match (fallback.model(), &self.model_override) {
                (Ok(m), _) => Some(m),
                (Err(_), Some(_)) => None,
                (Err(e), None) => return Err(e),
            },
            (None, None) => None,
        };
        if let Some(m) = &self.model_override {
            let (name, provider) = match chosen {
                Some(r) => (r.name().to_owned(), r.provider().to_owned()),
                None => ("override".to_owned(), "override".to_owned()),
            };
            return Ok(ResolvedModel {
                model: m.clone(),
                label: format!("override:{name}"),
                name,
                provider,
            });
        }
        let Some(chosen) = chosen else {
            return Err(Error::NoModel { name: worker.to_owned() });
        };
        let Some(backend) = self.providers.get(chosen.provider()) else {
            if let Some(reason) = self.unavailable.get(chosen.provider()) {
                return Err(Error::ProviderUnavailable {
                    provider: chosen.provider().to_owned(),
                    model: chosen.to_string(),
                    reason: reason.clone(),
                });
            }
            return Err(Error::UnknownProvider {
                provider: chosen.provider().to_owned(),
                model: chosen.to_string(),
                // Those that could not be set up are known names too (`openai` without its
                // API key): a typo is told the right spelling either way.
                known: self
                    .providers
                    .keys()
                    .chain(self.unavailable.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .cloned()
                    .collect(),
            });
        };
        Ok(ResolvedModel {
            model: backend.clone(),
            name: chosen.name().to_owned(),
            label: chosen.to_string(),
            provider: chosen.provider().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Error, ModelRef, Runtime};

    /// A valid model string has no length limit (a worker file's `model:` can be a whole
    /// file's worth): the errors naming it show it cut, as `InvalidModel` does, and keep it
    /// whole in their fields.
    #[test]
    fn provider_errors_show_a_long_model_string_cut() {
        let rt = Runtime::builder().unavailable_provider("cloud", "CLOUD_KEY is not set").build();
        let name = "x".repeat(1_000_000);
        let shown = |model: &str| {
            let e = rt.resolve_model(&ModelRef::parse(model).unwrap()).unwrap_err();
            let (Error::UnknownProvider { model: kept, .. }
            | Error::ProviderUnavailable { model: kept, .. }) = &e
            else {
                panic!("{e:?}")
            };
            assert_eq!(kept, model, "the field keeps the string");
            let shown = e.to_string();
            assert!(shown.len() < 600, "{} bytes: {}", shown.len(), &shown[..200]);
            shown
        };
        let unknown = shown(&format!("other:{name}"));
        assert!(unknown.starts_with("unknown model provider `other` in `other:xxx"), "{unknown}");
        assert!(unknown.contains("x…` (known: cloud)"), "{unknown}");
        let unavailable = shown(&format!("cloud:{name}"));
        assert!(unavailable.starts_with("the model provider `cloud` (for `cloud:xxx"));
        assert!(unavailable.ends_with("x…`) is not usable: CLOUD_KEY is not set"), "{unavailable}");
        // A long provider name is cut too.
        let unknown = shown(&format!("{}:m", "p".repeat(1_000_000)));
        assert!(unknown.starts_with("unknown model provider `ppp"), "{unknown}");
    }
}
