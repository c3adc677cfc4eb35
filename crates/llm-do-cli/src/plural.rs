//! Counts in the CLI's messages: `1 turn`, `2 turns`, one rule for every count it prints.

use std::fmt::Display;

/// `n` and `noun`, with an `s` unless `n` is one: `counted(1, "turn")` is `1 turn`,
/// `counted(0, "turn")` is `0 turns`. For nouns whose plural adds an `s`.
pub(crate) fn counted<N: Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    let s = if n == N::from(1) { "" } else { "s" };
    format!("{n} {noun}{s}")
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1usize, "turn"), "1 turn");
        assert_eq!(counted(0u64, "model request"), "0 model requests");
        assert_eq!(counted(2u32, "message"), "2 messages");
    }
}
