//! Program state shared with tools: values given to
//! [`RuntimeBuilder::state`](crate::RuntimeBuilder::state) and read back, by type, with
//! [`Ctx::state`](crate::Ctx::state), like axum's `State` or pydantic-ai's `deps`.
//!
//! One value per type: a database pool, an HTTP client, a configuration struct. A tool that asks
//! for a type nobody provided gets [`Error::MissingState`](crate::Error::MissingState), which
//! names the type.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// The state values of one runtime, keyed by their type.
#[derive(Clone, Default)]
pub(crate) struct StateMap {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl StateMap {
    /// Stores `value`, replacing any earlier value of the same type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was stored.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values.get(&TypeId::of::<T>()).and_then(|v| v.downcast_ref::<T>())
    }
}

impl std::fmt::Debug for StateMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateMap").field("len", &self.values.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let mut states = StateMap::default();
        states.insert(1_u32);
        states.insert(String::from("a"));
        states.insert(2_u32);
        assert_eq!(states.get::<u32>(), Some(&2));
        assert_eq!(states.get::<String>().map(String::as_str), Some("a"));
        assert_eq!(states.get::<u64>(), None);
    }
}
