//! A value a spec keeps for the runtime that last ran it (its resolved model, its tools): the
//! runtime's providers and registry are fixed when it is built, so what was resolved in it
//! holds for every later call there. A spec run in another runtime resolves again.

use std::sync::{Arc, Mutex};

/// One value, tagged with the id of the runtime it was resolved in.
#[derive(Debug)]
pub(crate) struct RuntimeCache<T>(Mutex<Option<(u64, Arc<T>)>>);

impl<T> Default for RuntimeCache<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<T> RuntimeCache<T> {
    /// The value resolved in the runtime `runtime`, if it was resolved there before.
    pub(crate) fn get(&self, runtime: u64) -> Option<Arc<T>> {
        match &*self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            Some((id, value)) if *id == runtime => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps `value` as resolved in the runtime `runtime` (replacing another runtime's).
    pub(crate) fn set(&self, runtime: u64, value: Arc<T>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((runtime, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_holds_only_for_the_runtime_it_was_resolved_in() {
        let cache = RuntimeCache::default();
        assert!(cache.get(1).is_none());
        cache.set(1, Arc::new("one"));
        assert_eq!(cache.get(1).as_deref(), Some(&"one"));
        assert!(cache.get(2).is_none());
        cache.set(2, Arc::new("two"));
        assert!(cache.get(1).is_none());
    }
}
