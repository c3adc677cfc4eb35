//! The chat template: the GGUF's own `tokenizer.chat_template` (Jinja, rendered with
//! minijinja and Python's string methods), or ChatML when the file has none or its template
//! does not parse or fails (an error it raises, an undefined value).
//!
//! The template comes from the model file, which may be a stranger's: its rendering is
//! bounded. Each rendering gets a budget of minijinja *fuel* ([`fuel_for`]): one unit per
//! instruction, and one per 64 bytes of data created, copied or written, checked before a
//! large value is made. A template that uses it all up (a loop of 10^10 iterations, a string
//! of a gigabyte) stops there with a [`TemplateError`], which names the template as the cause;
//! it does not fall back to ChatML, so a damaged or hostile file is not hidden behind answers
//! in a format the model was not trained on. Recursion is bounded by minijinja's own limit
//! (500 levels, reached as an ordinary failure: ChatML), and the nesting of expressions by
//! the length of a tag ([`MAX_BLOCK_TOKENS`]: a longer tag is not parsed, ChatML).

use crate::prompt::Turn;
use minijinja::{Environment, Error, ErrorKind, context};
use std::fmt;

/// The fuel every rendering may use, whatever the conversation: about a million minijinja
/// instructions, or 64 MB of data.
const BASE_FUEL: u64 = 1_000_000;

/// The fuel a rendering of `turns` may use: [`BASE_FUEL`], plus one unit per byte of the
/// conversation, so that a template may copy or inspect each message's text 64 times.
fn fuel_for(turns: &[Turn]) -> u64 {
    let bytes: usize = turns.iter().map(|t| t.role.len() + t.content.len()).sum();
    BASE_FUEL.saturating_add(bytes as u64)
}

/// The most tokens one tag (`{{ … }}` or `{% … %}`) of a chat template may hold.
///
/// minijinja's parser bounds the nesting of parentheses and statements (150 levels) but not
/// chains: `not not not …`, `- - - …`, `x()()()…`, `x.a.a…`, `1 + 1 + …`, `x|abs|abs…` each
/// build an expression as deep as the chain is long, which its parser, compiler and destructor
/// walk recursively. About 2,000 links (4 KB of template) overflowed the stack of the
/// engine's thread in a debug build: an abort of the whole process, from a model file. Each
/// link is at least one token, so a tag of at most this many tokens nests at most this deep;
/// real templates' longest tags have a few dozen.
const MAX_BLOCK_TOKENS: usize = 256;

/// The number of tokens of the longest tag of `source` (`None`: it has no tag), counted
/// leniently: a string literal, a run of letters, digits and `_`, or any other character that
/// is not white space, is one token. Comments (`{# … #}`) are skipped.
fn longest_block(source: &str) -> Option<usize> {
    let b = source.as_bytes();
    let mut longest = None;
    let mut i = 0;
    while i + 1 < b.len() {
        let close: &[u8] = match (b[i], b[i + 1]) {
            (b'{', b'{') => b"}}",
            (b'{', b'%') => b"%}",
            (b'{', b'#') => b"#}",
            _ => {
                i += 1;
                continue;
            }
        };
        let comment = close == b"#}";
        i += 2;
        let mut tokens = 0usize;
        while i < b.len() && !b[i..].starts_with(close) {
            let c = b[i];
            i += 1;
            if comment || c.is_ascii_whitespace() {
                continue;
            }
            tokens += 1;
            if c == b'"' || c == b'\'' {
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            } else if c.is_ascii_alphanumeric() || c == b'_' {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
        }
        i += close.len();
        if !comment {
            longest = longest.max(Some(tokens));
        }
    }
    longest
}

/// The model's chat template used up its rendering budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    /// The budget, in minijinja fuel.
    pub(crate) fuel: u64,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rendering it did more work than the budget of {} minijinja fuel allows (a runaway \
             loop, or a value too large to build)",
            self.fuel
        )
    }
}

/// A model's chat template.
pub(crate) struct ChatTemplate {
    env: Option<Environment<'static>>,
    bos: String,
    eos: String,
}

impl ChatTemplate {
    /// The template `source` (`None`: ChatML), with the model's BOS and EOS token texts.
    pub(crate) fn new(source: Option<&str>, bos: Option<String>, eos: Option<String>) -> Self {
        let env = source.and_then(|source| {
            if let Some(tokens) = longest_block(source).filter(|&n| n > MAX_BLOCK_TOKENS) {
                tracing::warn!(
                    tokens,
                    "a tag of the model's chat template is too long to parse safely; using ChatML"
                );
                return None;
            }
            let mut env = Environment::new();
            env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
            env.add_function("raise_exception", |message: String| -> Result<String, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, message))
            });
            match env.add_template_owned("chat", source.to_owned()) {
                Ok(()) => Some(env),
                Err(e) => {
                    tracing::warn!(error = %e, "the model's chat template does not parse; using ChatML");
                    None
                }
            }
        });
        if source.is_none() {
            tracing::warn!("the model has no chat template; using ChatML");
        }
        Self { env, bos: bos.unwrap_or_default(), eos: eos.unwrap_or_default() }
    }

    /// The prompt for `turns`, ending where the assistant's answer begins; an error when the
    /// file's template uses up its budget (see the module documentation).
    pub(crate) fn render(&mut self, turns: &[Turn]) -> Result<String, TemplateError> {
        if let Some(env) = &mut self.env {
            let fuel = fuel_for(turns);
            env.set_fuel(Some(fuel));
            let messages: Vec<_> = turns
                .iter()
                .map(|t| context! { role => t.role, content => t.content.replace('\0', "") })
                .collect();
            let rendered = env.get_template("chat").and_then(|t| {
                t.render(context! {
                    messages => messages,
                    add_generation_prompt => true,
                    bos_token => &self.bos,
                    eos_token => &self.eos,
                })
            });
            match rendered {
                Ok(prompt) => return Ok(prompt),
                Err(e) if e.kind() == ErrorKind::OutOfFuel => return Err(TemplateError { fuel }),
                Err(e) => {
                    tracing::warn!(error = %e, "the model's chat template failed; using ChatML");
                }
            }
        }
        Ok(chatml(turns))
    }
}

fn chatml(turns: &[Turn]) -> String {
    let mut out = String::new();
    for t in turns {
        out.push_str("<|im_start|>");
        out.push_str(t.role);
        out.push('\n');
        out.push_str(&t.content.replace('\0', ""));
        out.push_str("<|im_end|>\n");
    }
    out.push_str("<|im_start|>assistant\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn turns() -> Vec<Turn> {
        vec![
            Turn { role: "system", content: "Be brief.".into() },
            Turn { role: "user", content: "Hi".into() },
        ]
    }

    #[test]
    fn the_files_template_is_rendered() {
        let mut t = ChatTemplate::new(Some(SMOLLM2), None, None);
        assert_eq!(
            t.render(&turns()).unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_string_methods_work_and_broken_templates_fall_back_to_chatml() {
        let mut t = ChatTemplate::new(
            Some("{% for m in messages %}{{ m.content.strip().upper() }}|{% endfor %}"),
            None,
            None,
        );
        assert_eq!(t.render(&turns()).unwrap(), "BE BRIEF.|HI|");
        let mut broken = ChatTemplate::new(Some("{{ raise_exception('no') }}"), None, None);
        assert_eq!(broken.render(&turns()).unwrap(), chatml(&turns()));
        let mut unparsable = ChatTemplate::new(Some("{% for %}"), None, None);
        assert_eq!(unparsable.render(&turns()).unwrap(), chatml(&turns()));
    }

    /// Renders `source` on a thread of the engine's default stack size, failing the test if it
    /// takes more than 20 s (an unbounded template would run for hours).
    fn render_bounded(source: &'static str, turns: Vec<Turn>) -> Result<String, TemplateError> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut t = ChatTemplate::new(Some(source), None, None);
            let _ = tx.send(t.render(&turns));
        });
        rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the rendering did not end")
    }

    #[test]
    fn a_runaway_template_ends_in_an_error_naming_its_budget() {
        let nested =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        let e = render_bounded(nested, turns()).unwrap_err();
        assert_eq!(e.fuel, fuel_for(&turns()));
        // 1,000,000 + the 21 bytes of the conversation's roles and texts.
        assert!(e.to_string().contains("budget of 1000021 minijinja fuel"), "{e}");
        // A huge value is refused before it is built.
        let huge = render_bounded("{{ 'x' * 99000000 }}", turns()).unwrap_err();
        assert_eq!(huge, e);
        // Deep recursion is minijinja's recursion limit: an ordinary failure, so ChatML.
        let recursive = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
        assert_eq!(render_bounded(recursive, turns()).unwrap(), chatml(&turns()));
    }

    /// Chains of every kind minijinja parses recursively: a long one falls back to ChatML
    /// (it aborted the process with a stack overflow), one of the longest allowed length
    /// renders on a thread of the default stack size.
    #[test]
    fn a_tag_too_long_to_parse_safely_falls_back_to_chatml() {
        let chains: [(&str, &str, &str); 10] = [
            ("", "not ", "1"),
            ("", "-", "1"),
            ("1", "|abs", ""),
            ("x", ".a", ""),
            ("1", "+1", ""),
            ("1", "~1", ""),
            ("1", " and 1", ""),
            ("x", "()", ""),
            ("x", "[0]", ""),
            ("1", " is number", ""),
        ];
        for (head, link, tail) in chains {
            let chain = |n: usize| -> &'static str {
                format!("{{{{ {head}{}{tail} }}}}", link.repeat(n)).leak()
            };
            let long = render_bounded(chain(100_000), turns()).unwrap();
            assert_eq!(long, chatml(&turns()), "{link}");
            // The longest allowed chain of this link (parsed: an error of the expression's
            // meaning, not its size, would fall back too, so only that it returns matters).
            let per_link = longest_block(&format!("{{{{{link}}}}}")).unwrap();
            let links = (MAX_BLOCK_TOKENS - 2) / per_link;
            assert!(longest_block(chain(links)).unwrap() <= MAX_BLOCK_TOKENS, "{link}");
            render_bounded(chain(links), turns()).unwrap();
        }
        // Strings, comments and names count as one token each.
        assert_eq!(longest_block("{# not not not #}{{ 'a + b' ~ name_1 }}x{% if a %}"), Some(3));
        assert_eq!(longest_block(SMOLLM2), Some(17));
        assert_eq!(longest_block("no tags"), None);
        // Unterminated tags and strings end the count without reading past the end.
        for cut in ["{", "{{", "{% x", "{{ 'ab", "{{ \"a\\", "{# x", "{{ a }"] {
            assert!(longest_block(cut).is_none_or(|n| n <= 2), "{cut}");
        }
    }

    #[test]
    fn the_budget_grows_with_the_conversation() {
        // Writing a 2 MiB message 40 times: more than the base budget, within the budget of
        // that conversation.
        let copies = "{% for m in messages %}{% for i in range(40) %}{{ m.content }}{% endfor %}{% endfor %}";
        let long = vec![Turn { role: "user", content: "y".repeat(2 << 20) }];
        let prompt = render_bounded(copies, long).unwrap();
        assert_eq!(prompt.len(), 40 * (2 << 20));
    }
}
