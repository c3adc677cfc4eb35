//! [`Key`]: the attribute argument keys, described once in [`KEYS`] (how each is written,
//! which macro takes it, what value it takes, a correct use for messages). Parsing (`args`)
//! looks keys up here instead of matching on each of them.

use crate::kind::MacroKind;

/// One argument key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// `prompt = "..."`: the user-message template (workers, required).
    Prompt,
    /// `model = "provider:name"`.
    Model,
    /// `tools = [path, ...]`.
    Tools,
    /// `system = "..."`: the system prompt.
    System,
    /// `name = "..."`: the registered name, instead of the function's.
    Name,
    /// `description = "..."`: instead of the doc comment.
    Description,
    /// `temperature = 0.2`.
    Temperature,
    /// `top_p = 0.9`.
    TopP,
    /// `max_tokens = 512`.
    MaxTokens,
    /// `seed = 7`.
    Seed,
    /// `stop = ["\n\n", "END"]` or `stop = "END"`: stop sequences of text answers.
    Stop,
    /// `max_turns = 10`.
    MaxTurns,
    /// `output_retries = 2`.
    OutputRetries,
    /// `approval = "ask"`: the verdict when a model calls it and no policy rule matches.
    Approval,
    /// `crate = "path"`: where generated code finds llm-do (as serde's `crate = "..."`).
    Crate,
}

/// What kind of value a key takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// A string literal.
    Str,
    /// A string literal holding a path, e.g. `"::llm_do"`.
    PathStr,
    /// A bracketed list of paths.
    Paths,
    /// A non-negative number, float or integer, stored as `f32`.
    Float,
    /// A non-negative integer that fits in `u32`.
    U32,
    /// A non-negative integer that fits in `u64`.
    U64,
    /// A string literal or a bracketed list of them.
    Strs,
}

/// Everything about one key.
pub(crate) struct KeyDef {
    /// The key.
    pub(crate) key: Key,
    /// The key as written.
    pub(crate) name: &'static str,
    /// Whether `#[tool]` takes it (every key is a `#[worker]` key).
    pub(crate) tool: bool,
    /// The kind of value it takes.
    pub(crate) value: ValueKind,
    /// A correct use, for messages.
    pub(crate) example: &'static str,
}

/// Shorthand for the table.
const fn def(
    key: Key,
    name: &'static str,
    tool: bool,
    value: ValueKind,
    example: &'static str,
) -> KeyDef {
    KeyDef { key, name, tool, value, example }
}

/// Every key, in the order messages list them.
pub(crate) static KEYS: &[KeyDef] = {
    use Key as K;
    use ValueKind as V;
    &[
        def(K::Prompt, "prompt", false, V::Str, r#"prompt = "Classify this ticket: {ticket}""#),
        def(K::Model, "model", false, V::Str, r#"model = "openai:gpt-4o-mini""#),
        def(K::Tools, "tools", false, V::Paths, "tools = [lookup_customer, search::web]"),
        def(K::System, "system", false, V::Str, r#"system = "You are a careful analyst.""#),
        def(K::Name, "name", true, V::Str, r#"name = "classify_ticket""#),
        def(
            K::Description,
            "description",
            true,
            V::Str,
            r#"description = "Classify a support ticket.""#,
        ),
        def(K::Temperature, "temperature", false, V::Float, "temperature = 0.2"),
        def(K::TopP, "top_p", false, V::Float, "top_p = 0.9"),
        def(K::MaxTokens, "max_tokens", false, V::U32, "max_tokens = 1024"),
        def(K::Seed, "seed", false, V::U64, "seed = 42"),
        def(K::Stop, "stop", false, V::Strs, r#"stop = ["\n\n", "END"]"#),
        def(K::MaxTurns, "max_turns", false, V::U32, "max_turns = 10"),
        def(K::OutputRetries, "output_retries", false, V::U32, "output_retries = 2"),
        def(K::Approval, "approval", true, V::Str, r#"approval = "ask""#),
        def(K::Crate, "crate", true, V::PathStr, r#"crate = "::llm_do""#),
    ]
};

impl Key {
    /// The table entry of the key.
    pub(crate) fn def(self) -> &'static KeyDef {
        KEYS.iter().find(|d| d.key == self).expect("every key is in the table")
    }

    /// The key as written.
    pub(crate) fn as_str(self) -> &'static str {
        self.def().name
    }

    /// A correct use of the key, for messages.
    pub(crate) fn example(self) -> &'static str {
        self.def().example
    }
}

impl KeyDef {
    /// Whether `kind`'s attribute takes this key.
    pub(crate) fn accepted_by(&self, kind: MacroKind) -> bool {
        match kind {
            MacroKind::Worker => true,
            MacroKind::Tool => self.tool,
        }
    }
}

/// The keys `kind` accepts, in table order.
pub(crate) fn accepted(kind: MacroKind) -> impl Iterator<Item = &'static KeyDef> {
    KEYS.iter().filter(move |d| d.accepted_by(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_once_with_a_matching_example() {
        for (i, d) in KEYS.iter().enumerate() {
            assert!(KEYS[i + 1..].iter().all(|o| o.key != d.key && o.name != d.name), "{}", d.name);
            assert!(d.example.starts_with(&format!("{} = ", d.name)), "{}", d.example);
            assert!(std::ptr::eq(d.key.def(), d));
        }
        let tool: Vec<&str> = accepted(MacroKind::Tool).map(|d| d.name).collect();
        assert_eq!(tool, ["name", "description", "approval", "crate"]);
    }
}
