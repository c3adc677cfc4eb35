//! [`Slots`]: a list whose entries keep their index until removed, freed indices reused. A
//! token's waiting tasks and its child tokens are kept in one each: an entry removes itself
//! by its index in O(1), so a long-lived token does not grow with waiters or children that
//! came and went.

/// Entries that keep their index; removing one frees its index for the next insert.
pub(super) struct Slots<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slots<T> {
    /// Adds `value`, in a freed slot if there is one; returns its index.
    pub(super) fn insert(&mut self, value: T) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(value);
                slot
            }
            None => {
                self.slots.push(Some(value));
                self.slots.len() - 1
            }
        }
    }

    /// Removes the entry at `slot`, if there is one (a list taken by a cancellation is empty:
    /// nothing to remove then).
    pub(super) fn remove(&mut self, slot: usize) {
        if let Some(entry) = self.slots.get_mut(slot)
            && entry.take().is_some()
        {
            self.free.push(slot);
        }
    }

    /// Whether no entry is in the list.
    pub(super) fn is_empty(&self) -> bool {
        self.slots.len() == self.free.len()
    }

    /// The entries, in no particular order.
    pub(super) fn into_entries(self) -> impl Iterator<Item = T> {
        self.slots.into_iter().flatten()
    }

    /// How many entries are in the list.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// How many slots the list has, used or free.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;

    #[test]
    fn a_removed_slot_is_reused_and_a_second_removal_does_nothing() {
        let mut slots = Slots::default();
        let (a, b) = (slots.insert('a'), slots.insert('b'));
        slots.remove(a);
        slots.remove(a);
        assert_eq!((slots.len(), slots.capacity()), (1, 2));
        assert_eq!(slots.insert('c'), a);
        slots.remove(b);
        slots.remove(7);
        assert!(!slots.is_empty());
        assert_eq!(slots.into_entries().collect::<Vec<_>>(), ['c']);
    }
}
