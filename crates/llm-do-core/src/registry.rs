//! The flat name space of workers and tools that calls by name resolve in: specs registered
//! by name, and [`CallableSource`]s whose callables are known only at run time (the tools of
//! an MCP server, listed on first use and again when the server says its list changed).

use crate::error::Result;
use crate::spec::CallableSpec;
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Callables whose names all start with one prefix and are known only at run time.
///
/// A name that is not registered but starts with a source's [`prefix`](Self::prefix) is
/// looked up in the source's current [`callables`](Self::callables) when it is called (by
/// [`Ctx::call`](crate::Ctx::call) or by a model). A worker's tool name ending in `*`
/// (`orders__*`) offers every callable whose name starts with the rest, registered or from
/// a source, as they are when the worker's call starts.
///
/// ```
/// use futures::future::BoxFuture;
/// use llm_do_core::{CallableSource, CallableSpec, Runtime, ToolSpecBuilder};
/// use std::sync::Arc;
///
/// #[derive(Debug)]
/// struct Clock;
/// impl CallableSource for Clock {
///     fn prefix(&self) -> &str { "clock__" }
///     fn callables(&self) -> BoxFuture<'_, llm_do_core::Result<Vec<Arc<CallableSpec>>>> {
///         Box::pin(async {
///             Ok(vec![ToolSpecBuilder::new("clock__now").handler(|_, _| async { Ok(serde_json::json!(12)) }).build()])
///         })
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> llm_do_core::Result<()> {
/// let rt = Runtime::builder().source(Arc::new(Clock)).build();
/// let now: u32 = rt.ctx().call("clock__now", serde_json::json!({})).await?;
/// assert_eq!(now, 12);
/// # Ok(())
/// # }
/// ```
pub trait CallableSource: Send + Sync + std::fmt::Debug {
    /// The prefix every name of this source starts with (e.g. `orders__`).
    fn prefix(&self) -> &str;

    /// The callables now. May do I/O (start a server on first use, list again after a change);
    /// an error here is the error of the call that needed the list.
    fn callables(&self) -> BoxFuture<'_, Result<Vec<Arc<CallableSpec>>>>;
}

/// Workers and tools by name.
///
/// ```
/// use llm_do_core::{Registry, ToolSpecBuilder};
/// let mut reg = Registry::default();
/// reg.insert(ToolSpecBuilder::new("now").handler(|_, _| async { Ok(serde_json::json!(0)) }).build());
/// assert!(reg.get("now").is_some());
/// assert_eq!(reg.names().collect::<Vec<_>>(), ["now"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    specs: BTreeMap<Arc<str>, Arc<CallableSpec>>,
    toolsets: BTreeMap<String, Vec<String>>,
    sources: Vec<Arc<dyn CallableSource>>,
    /// The names that are known only because a registered worker lists their spec
    /// (`tools = [..]`): they do not replace another worker's own listed spec of that name.
    listed: BTreeSet<Arc<str>>,
}

impl Registry {
    /// Adds a spec, returning the one it replaced, if any.
    ///
    /// ```
    /// # use llm_do_core::{Registry, ToolSpecBuilder};
    /// let mut reg = Registry::default();
    /// let t = || ToolSpecBuilder::new("t").handler(|_, _| async { Ok(serde_json::json!(0)) }).build();
    /// assert!(reg.insert(t()).is_none());
    /// assert!(reg.insert(t()).is_some());
    /// ```
    pub fn insert(&mut self, spec: Arc<CallableSpec>) -> Option<Arc<CallableSpec>> {
        self.listed.remove(spec.name());
        self.specs.insert(spec.name_arc(), spec)
    }

    /// Adds a spec that a registered worker lists, unless its name is taken.
    pub(crate) fn insert_listed(&mut self, spec: Arc<CallableSpec>) {
        if !self.specs.contains_key(spec.name()) {
            self.listed.insert(spec.name_arc());
            self.specs.insert(spec.name_arc(), spec);
        }
    }

    /// The spec a worker that lists `own` calls: the one registered explicitly under its name
    /// (a replacement, e.g. a hardened tool), else `own` itself — another worker's listed
    /// spec of the same name does not take its place.
    pub(crate) fn for_listed(&self, own: Arc<CallableSpec>) -> Arc<CallableSpec> {
        match self.specs.get(own.name()) {
            Some(registered) if !self.listed.contains(own.name()) => registered.clone(),
            _ => own,
        }
    }

    /// Looks a name up.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert!(Registry::default().get("nope").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Arc<CallableSpec>> {
        self.specs.get(name)
    }

    /// `true` when the name is registered.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert!(!Registry::default().contains("nope"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.specs.contains_key(name)
    }

    /// The registered names, sorted.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert_eq!(Registry::default().names().count(), 0);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.specs.keys().map(|k| &**k)
    }

    /// The registered specs, sorted by name.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert_eq!(Registry::default().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &Arc<CallableSpec>> {
        self.specs.values()
    }

    /// Number of registered specs.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert_eq!(Registry::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// `true` when nothing is registered.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert!(Registry::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Names a group of callables: a *toolset*, which a project file can offer a worker by its
    /// name (a `.agent` file's `toolsets: [calc_tools]`, written for the Python llm-do, where
    /// the toolset was a Python class). The members are names of callables, registered with
    /// [`insert`](Self::insert). Returns the members it replaced, if any.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// let mut reg = Registry::default();
    /// assert!(reg.insert_toolset("calc_tools", ["add", "multiply"]).is_none());
    /// assert_eq!(reg.toolset("calc_tools").unwrap(), ["add", "multiply"]);
    /// ```
    pub fn insert_toolset(
        &mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Option<Vec<String>> {
        self.toolsets.insert(name.into(), members.into_iter().map(Into::into).collect())
    }

    /// The members of a toolset named with [`insert_toolset`](Self::insert_toolset).
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert!(Registry::default().toolset("calc_tools").is_none());
    /// ```
    pub fn toolset(&self, name: &str) -> Option<&[String]> {
        self.toolsets.get(name).map(Vec::as_slice)
    }

    /// The toolsets' names, sorted.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// let mut reg = Registry::default();
    /// reg.insert_toolset("b", ["x"]);
    /// reg.insert_toolset("a", ["y"]);
    /// assert_eq!(reg.toolset_names().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn toolset_names(&self) -> impl Iterator<Item = &str> {
        self.toolsets.keys().map(String::as_str)
    }

    /// Adds a source of callables known only at run time (see [`CallableSource`]).
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert_eq!(Registry::default().sources().count(), 0);
    /// ```
    pub fn insert_source(&mut self, source: Arc<dyn CallableSource>) {
        self.sources.push(source);
    }

    /// The sources, in the order they were added.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// assert!(Registry::default().sources().next().is_none());
    /// ```
    pub fn sources(&self) -> impl Iterator<Item = &Arc<dyn CallableSource>> {
        self.sources.iter()
    }

    /// Looks a name up: the registered specs first, then the sources whose prefix it has.
    ///
    /// ```
    /// # use llm_do_core::Registry;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// assert!(Registry::default().resolve("orders__lookup").await?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resolve(&self, name: &str) -> Result<Option<Arc<CallableSpec>>> {
        if let Some(spec) = self.get(name) {
            return Ok(Some(spec.clone()));
        }
        for source in self.sources.iter().filter(|s| name.starts_with(s.prefix())) {
            if let Some(spec) = source.callables().await?.into_iter().find(|s| s.name() == name) {
                return Ok(Some(spec));
            }
        }
        Ok(None)
    }

    /// Every callable whose name starts with `prefix`: the registered ones, then those of the
    /// sources, sorted by name, one per name (a registered spec wins).
    ///
    /// ```
    /// # use llm_do_core::{Registry, ToolSpecBuilder};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> llm_do_core::Result<()> {
    /// let mut reg = Registry::default();
    /// reg.insert(ToolSpecBuilder::new("calc__add").handler(|_, _| async { Ok(serde_json::json!(0)) }).build());
    /// let found = reg.with_prefix("calc__").await?;
    /// assert_eq!(found.iter().map(|s| s.name()).collect::<Vec<_>>(), ["calc__add"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn with_prefix(&self, prefix: &str) -> Result<Vec<Arc<CallableSpec>>> {
        let mut found: BTreeMap<Arc<str>, Arc<CallableSpec>> = self
            .specs
            .range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(name, spec)| (name.clone(), spec.clone()))
            .collect();
        for source in self.sources_for_prefix(prefix) {
            for spec in source.callables().await? {
                if spec.name().starts_with(prefix) {
                    found.entry(spec.name_arc()).or_insert(spec);
                }
            }
        }
        Ok(found.into_values().collect())
    }

    /// The sources that may hold names starting with `prefix`.
    fn sources_for_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = &'a Arc<dyn CallableSource>> {
        self.sources
            .iter()
            .filter(move |s| s.prefix().starts_with(prefix) || prefix.starts_with(s.prefix()))
    }

    /// `true` when some source may hold names starting with `prefix`, so that what
    /// [`with_prefix`](Self::with_prefix) finds can change while the registry lives.
    pub(crate) fn has_sources_for_prefix(&self, prefix: &str) -> bool {
        self.sources_for_prefix(prefix).next().is_some()
    }
}
