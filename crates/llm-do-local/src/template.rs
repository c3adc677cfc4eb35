//! The chat template: the GGUF's own `tokenizer.chat_template` (Jinja, rendered with
//! minijinja and Python's string methods), or ChatML when the file has none or its template
//! cannot be rendered.

use crate::prompt::Turn;
use minijinja::{Environment, Error, ErrorKind, context};

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

    /// The prompt for `turns`, ending where the assistant's answer begins.
    pub(crate) fn render(&self, turns: &[Turn]) -> String {
        if let Some(env) = &self.env {
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
                Ok(prompt) => return prompt,
                Err(e) => {
                    tracing::warn!(error = %e, "the model's chat template failed; using ChatML");
                }
            }
        }
        chatml(turns)
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
        let t = ChatTemplate::new(Some(SMOLLM2), None, None);
        assert_eq!(
            t.render(&turns()),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_string_methods_work_and_broken_templates_fall_back_to_chatml() {
        let t = ChatTemplate::new(
            Some("{% for m in messages %}{{ m.content.strip().upper() }}|{% endfor %}"),
            None,
            None,
        );
        assert_eq!(t.render(&turns()), "BE BRIEF.|HI|");
        let broken = ChatTemplate::new(Some("{{ raise_exception('no') }}"), None, None);
        assert_eq!(broken.render(&turns()), chatml(&turns()));
        let unparsable = ChatTemplate::new(Some("{% for %}"), None, None);
        assert_eq!(unparsable.render(&turns()), chatml(&turns()));
    }
}
