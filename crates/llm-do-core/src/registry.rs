//! The flat name space of workers and tools that calls by name resolve in.

use crate::spec::CallableSpec;
use std::collections::BTreeMap;
use std::sync::Arc;

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
        self.specs.insert(spec.name_arc(), spec)
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
}
