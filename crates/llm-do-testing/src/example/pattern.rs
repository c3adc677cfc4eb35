//! Strings matching a `pattern`, generated from the parsed regular expression.
//!
//! JSON Schema patterns are ECMA-262 regular expressions; they are parsed with `regex-syntax`,
//! which accepts the common subset (classes, escapes like `\d`/`\w`, groups, alternation,
//! quantifiers, anchors). Look-around and back-references are rejected as unsupported. A
//! generated string is always checked against the real pattern afterwards, so a difference in
//! dialect can make generation fail but never yields an invalid example.

use super::rng::Rng;
use regex_syntax::hir::{Class, Hir, HirKind};

/// Longest string a pattern may generate.
const MAX_LEN: usize = 10_000;
/// Most pattern nodes visited for one string.
const MAX_STEPS: usize = 100_000;

/// Characters preferred, in this order, when a class admits them.
const PREFERRED: &[char] = &['a', 'x', '0', '1', 'A', 'X', '_', '-', '.', ' ', '@'];

/// A parsed `pattern`.
#[derive(Debug)]
pub(super) struct Pattern {
    hir: Hir,
}

impl Pattern {
    /// Parses `pattern`; the error explains what is not supported.
    pub(super) fn parse(pattern: &str) -> Result<Self, String> {
        regex_syntax::Parser::new().parse(pattern).map(|hir| Self { hir }).map_err(|e| {
            format!("cannot parse pattern {pattern:?}: {}", first_line(&e.to_string()))
        })
    }

    /// A string matched by the pattern: every repetition runs its minimum count plus `extra`
    /// (within its maximum). The error explains why none could be built.
    pub(super) fn sample(&self, extra: u32, rng: &mut Rng) -> Result<String, String> {
        let mut sampler = Sampler { extra, rng, out: String::new(), steps: 0 };
        sampler.sample(&self.hir)?;
        Ok(sampler.out)
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| text.lines().next().unwrap_or(text))
}

/// One walk over a pattern, building a matching string.
struct Sampler<'r> {
    extra: u32,
    rng: &'r mut Rng,
    out: String,
    /// Nodes visited so far, bounded by [`MAX_STEPS`] (repetitions of empty groups make no
    /// output but still cost time).
    steps: usize,
}

impl Sampler<'_> {
    fn sample(&mut self, hir: &Hir) -> Result<(), String> {
        self.steps += 1;
        if self.out.len() > MAX_LEN || self.steps > MAX_STEPS {
            return Err(format!(
                "the pattern only matches strings too long to generate (over {MAX_LEN} bytes)"
            ));
        }
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Ok(()),
            HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
                Ok(text) => {
                    self.out.push_str(text);
                    Ok(())
                }
                Err(_) => Err("the pattern matches non-UTF-8 bytes".to_owned()),
            },
            HirKind::Class(class) => {
                let c = pick(class, self.rng)?;
                self.out.push(c);
                Ok(())
            }
            HirKind::Repetition(rep) => {
                let wanted = rep.min.saturating_add(self.extra);
                let count = rep.max.map_or(wanted, |max| wanted.min(max));
                (0..count).try_for_each(|_| self.sample(&rep.sub))
            }
            HirKind::Capture(cap) => self.sample(&cap.sub),
            HirKind::Concat(parts) => parts.iter().try_for_each(|p| self.sample(p)),
            HirKind::Alternation(branches) => {
                let mut first_err = None;
                for i in self.rng.rotation(branches.len()) {
                    let Some(branch) = branches.get(i) else { continue };
                    let mark = self.out.len();
                    match self.sample(branch) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            self.out.truncate(mark);
                            first_err.get_or_insert(e);
                        }
                    }
                }
                Err(first_err.unwrap_or_else(|| "empty alternation".to_owned()))
            }
        }
    }
}

/// A character of `class`: a preferred readable one if possible, else the first printable one.
fn pick(class: &Class, rng: &mut Rng) -> Result<char, String> {
    let chars: Vec<(char, char)> = match class {
        Class::Unicode(c) => c.ranges().iter().map(|r| (r.start(), r.end())).collect(),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .filter(|r| r.start().is_ascii())
            .map(|r| (char::from(r.start()), char::from(r.end().min(0x7F))))
            .collect(),
    };
    let contains = |c: char| chars.iter().any(|&(lo, hi)| lo <= c && c <= hi);
    let preferred: Vec<char> = PREFERRED.iter().copied().filter(|&c| contains(c)).collect();
    if let Some(&c) = preferred.get(rng.choose(preferred.len())) {
        return Ok(c);
    }
    // Skip control characters: scan a bounded number of code points from each range's start.
    for &(lo, hi) in &chars {
        let end = u32::from(hi).min(u32::from(lo).saturating_add(256));
        if let Some(c) = (u32::from(lo)..=end).filter_map(char::from_u32).find(|c| !c.is_control())
        {
            return Ok(c);
        }
    }
    chars.first().map(|&(lo, _)| lo).ok_or_else(|| "a character class matches nothing".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_of(p: &str, extra: u32) -> String {
        Pattern::parse(p).and_then(|p| p.sample(extra, &mut Rng::new(0))).expect("generates")
    }

    #[test]
    fn simple_patterns() {
        assert_eq!(sample_of("^[A-Z]{3}-\\d{4}$", 0), "AAA-0000");
        assert_eq!(sample_of("^\\d+$", 0), "0");
        assert_eq!(sample_of("^\\d+$", 2), "000");
        assert_eq!(sample_of("^(foo|bar)baz?$", 0), "fooba");
        assert_eq!(sample_of("^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", 0), "a@a.aa");
        assert_eq!(sample_of("ab\\/c", 0), "ab/c");
        assert_eq!(sample_of("", 0), "");
    }

    #[test]
    fn unsupported_patterns() {
        assert!(Pattern::parse("(?=a)b").is_err());
        assert!(Pattern::parse("(a)\\1").is_err());
        assert!(Pattern::parse("[").is_err());
        assert!(Pattern::parse("a{100000}").and_then(|p| p.sample(0, &mut Rng::new(0))).is_err());
        let empty_loop =
            Pattern::parse("(a?){1000000000}x").and_then(|p| p.sample(0, &mut Rng::new(0)));
        assert!(empty_loop.is_err());
        assert!(Pattern::parse("[^\\s\\S]").and_then(|p| p.sample(0, &mut Rng::new(0))).is_err());
    }
}
