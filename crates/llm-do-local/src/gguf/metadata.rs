//! Checks of the metadata values the loaders and the tokenizer trust: an out-of-range value
//! makes them allocate or index wildly (or panic inside a dependency) instead of failing the
//! load with a message.

/// The token-id keys the engine itself uses (`crate::vocab`), checked against the vocabulary.
/// Other ids (`unk`, `pad`, `sep`) are read only by candle's tokenizer, which ignores one out
/// of range (as llama.cpp does): they are left alone, so that such files still load.
const TOKEN_ID_KEYS: [&str; 2] = ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"];

/// Checks the hyperparameters a loader trusts (an out-of-range layer or expert count would
/// make it allocate or index wildly instead of failing the load).
pub(super) fn check_hyperparameters(
    arch: Option<&str>,
    integers: &[(String, u64)],
) -> Result<(), String> {
    let Some(arch) = arch else { return Ok(()) };
    let get = |suffix: &str| {
        let key = format!("{arch}.{suffix}");
        integers.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    };
    let layers = get("block_count");
    if let Some(n) = layers
        && (n == 0 || n > 512)
    {
        return Err(format!("`{arch}.block_count` is {n} (1 to 512 layers allowed)"));
    }
    if let (Some(next), Some(n)) = (get("nextn_predict_layers"), layers)
        && next > n
    {
        return Err(format!(
            "`{arch}.nextn_predict_layers` ({next}) exceeds the layer count ({n})"
        ));
    }
    let experts = get("expert_count").unwrap_or(0);
    if experts > 1024 {
        return Err(format!("`{arch}.expert_count` is {experts} (at most 1024 allowed)"));
    }
    if let Some(used) = get("expert_used_count")
        && (used > experts || (experts > 0 && used == 0))
    {
        return Err(format!(
            "`{arch}.expert_used_count` ({used}) does not fit the expert count ({experts})"
        ));
    }
    Ok(())
}

/// Checks that the token ids of [`TOKEN_ID_KEYS`] name tokens of the vocabulary of `vocab`
/// tokens (when the file has one: its absence is the tokenizer's error).
pub(super) fn check_token_ids(
    integers: &[(String, u64)],
    vocab: Option<u64>,
) -> Result<(), String> {
    let Some(vocab) = vocab else { return Ok(()) };
    for (key, id) in integers.iter().filter(|(k, _)| TOKEN_ID_KEYS.contains(&k.as_str())) {
        if *id >= vocab {
            return Err(format!(
                "`{key}` is {id}, but the vocabulary (`tokenizer.ggml.tokens`) has {vocab} \
                 tokens (ids 0 to {})",
                vocab.saturating_sub(1)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_outside_the_vocabulary_are_named() {
        let ids = |eos: u64| {
            vec![
                ("tokenizer.ggml.bos_token_id".to_owned(), 1),
                ("tokenizer.ggml.eos_token_id".to_owned(), eos),
            ]
        };
        assert_eq!(check_token_ids(&ids(2), Some(3)), Ok(()));
        assert_eq!(
            check_token_ids(&ids(4_000_000_000), Some(49152)).unwrap_err(),
            "`tokenizer.ggml.eos_token_id` is 4000000000, but the vocabulary \
             (`tokenizer.ggml.tokens`) has 49152 tokens (ids 0 to 49151)"
        );
        assert!(check_token_ids(&ids(3), Some(3)).unwrap_err().contains("is 3,"));
        // Ids the engine does not use are candle's to ignore.
        let pad = vec![("tokenizer.ggml.padding_token_id".to_owned(), 99)];
        assert_eq!(check_token_ids(&pad, Some(3)), Ok(()));
        // No vocabulary: nothing to check against here.
        assert_eq!(check_token_ids(&ids(99), None), Ok(()));
    }
}
