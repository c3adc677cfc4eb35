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
}
