//! [`RequestMismatch`]: why a request matches no recording, as a readable structural diff.

use serde_json::Value;
use std::fmt;
use std::path::PathBuf;

/// One place where a request differs from a recorded one.
///
/// ```
/// use llm_do_testing::cassette::Difference;
/// let d = Difference::between(&serde_json::json!({"a": 1}), &serde_json::json!({"a": 2}));
/// assert_eq!(d[0].path, "a");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Difference {
    /// Where, e.g. `messages[1].content`, `tools[search]`, `output.schema.enum[2]`.
    pub path: String,
    /// The recorded value, `None` when the request added it.
    pub recorded: Option<Value>,
    /// The value now, `None` when the request no longer has it.
    pub now: Option<Value>,
}

impl Difference {
    /// The differences between a recorded normalized request and the current one. Arrays of
    /// objects that all have a `name` (tools) are compared by name, other arrays by position.
    ///
    /// ```
    /// use llm_do_testing::cassette::Difference;
    /// use serde_json::json;
    /// let was = json!({"tools": [{"name": "a"}, {"name": "b"}]});
    /// let now = json!({"tools": [{"name": "b"}, {"name": "c"}]});
    /// let paths: Vec<String> = Difference::between(&was, &now).into_iter().map(|d| d.path).collect();
    /// assert_eq!(paths, ["tools[a]", "tools[c]"]);
    /// ```
    pub fn between(recorded: &Value, now: &Value) -> Vec<Difference> {
        let mut out = Vec::new();
        diff(String::new(), recorded, now, &mut out);
        out
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn named(items: &[Value]) -> Option<Vec<(&str, &Value)>> {
    if items.is_empty() {
        return None;
    }
    items.iter().map(|v| Some((v.get("name")?.as_str()?, v))).collect()
}

fn diff(path: String, recorded: &Value, now: &Value, out: &mut Vec<Difference>) {
    match (recorded, now) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => diff(join(&path, k), va, vb, out),
                    None => out.push(Difference {
                        path: join(&path, k),
                        recorded: Some(va.clone()),
                        now: None,
                    }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(Difference {
                        path: join(&path, k),
                        recorded: None,
                        now: Some(vb.clone()),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => match (named(a), named(b)) {
            (Some(na), Some(nb)) => {
                for (name, va) in &na {
                    let p = format!("{path}[{name}]");
                    match nb.iter().find(|(n, _)| n == name) {
                        Some((_, vb)) => diff(p, va, vb, out),
                        None => out.push(Difference {
                            path: p,
                            recorded: Some((*va).clone()),
                            now: None,
                        }),
                    }
                }
                for (name, vb) in &nb {
                    if !na.iter().any(|(n, _)| n == name) {
                        out.push(Difference {
                            path: format!("{path}[{name}]"),
                            recorded: None,
                            now: Some((*vb).clone()),
                        });
                    }
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    let p = format!("{path}[{i}]");
                    match (a.get(i), b.get(i)) {
                        (Some(va), Some(vb)) => diff(p, va, vb, out),
                        (va, vb) => out.push(Difference {
                            path: p,
                            recorded: va.cloned(),
                            now: vb.cloned(),
                        }),
                    }
                }
            }
        },
        _ if recorded == now => {}
        _ => {
            out.push(Difference { path, recorded: Some(recorded.clone()), now: Some(now.clone()) })
        }
    }
}

/// A request that matches no recorded interaction, with the differences from the closest
/// recording. Its `Display` is the message a test failure shows.
///
/// ```
/// use llm_do_core::{Message, ModelRequest, ModelResponse};
/// use llm_do_testing::cassette::{Cassette, CassetteError, Interaction, ReplayModel};
/// let mut c = Cassette::default();
/// c.push(Interaction::new(&ModelRequest::new("m", vec![Message::user("Classify: A")]), ModelResponse::text("x")));
/// let replay = ReplayModel::new(c);
/// let req = ModelRequest::new("m", vec![Message::user("Classify: B")]);
/// let Err(CassetteError::Mismatch(m)) = replay.find(&req) else { panic!("expected a mismatch") };
/// assert_eq!(m.differences[0].path, "messages[0].content");
/// assert!(m.to_string().contains("recorded: \"Classify: A\""));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestMismatch {
    /// The cassette file, when the replay was loaded from one.
    pub path: Option<PathBuf>,
    /// How many interactions the cassette holds.
    pub recorded: usize,
    /// Index of the closest recorded interaction, `None` for an empty cassette.
    pub closest: Option<usize>,
    /// How the request differs from the closest recording.
    pub differences: Vec<Difference>,
}

const MAX_SHOWN: usize = 12;

impl fmt::Display for RequestMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default();
        write!(
            f,
            "the request matches none of the {} interaction(s) recorded in cassette{file}",
            self.recorded
        )?;
        if let Some(i) = self.closest {
            write!(f, "\nclosest recording (interaction {}) differs at:", i + 1)?;
            for d in self.differences.iter().take(MAX_SHOWN) {
                write!(f, "\n  {}", if d.path.is_empty() { "(whole request)" } else { &d.path })?;
                match (&d.recorded, &d.now) {
                    (Some(r), Some(n)) => {
                        let (r, n) = excerpts(r, n);
                        write!(f, "\n    recorded: {r}\n    now:      {n}")?;
                    }
                    (Some(r), None) => {
                        write!(f, "\n    removed; recorded: {}", shorten(&r.to_string()))?
                    }
                    (None, Some(n)) => write!(f, "\n    added; now: {}", shorten(&n.to_string()))?,
                    (None, None) => {}
                }
            }
            if self.differences.len() > MAX_SHOWN {
                write!(f, "\n  ... and {} more", self.differences.len() - MAX_SHOWN)?;
            }
        }
        write!(f, "\nif the change is intended, re-record the cassette: LLM_DO_RECORD=1 cargo test")
    }
}

impl std::error::Error for RequestMismatch {}

const WINDOW: usize = 60;

fn shorten(s: &str) -> String {
    if s.chars().count() <= 2 * WINDOW + 20 {
        return s.to_owned();
    }
    let head: String = s.chars().take(2 * WINDOW).collect();
    format!("{head}…")
}

/// Both values as JSON; long strings are cut to a window around their first difference.
fn excerpts(recorded: &Value, now: &Value) -> (String, String) {
    let (r, n) = (recorded.to_string(), now.to_string());
    let limit = 2 * WINDOW + 20;
    if r.chars().count() <= limit && n.chars().count() <= limit {
        return (r, n);
    }
    let rc: Vec<char> = r.chars().collect();
    let nc: Vec<char> = n.chars().collect();
    let first = rc.iter().zip(&nc).take_while(|(a, b)| a == b).count();
    let start = first.saturating_sub(WINDOW / 2);
    let cut = |cs: &[char]| {
        let end = (start + 2 * WINDOW).min(cs.len());
        let mut s: String = cs[start.min(end)..end].iter().collect();
        if start > 0 {
            s.insert(0, '…');
        }
        if end < cs.len() {
            s.push('…');
        }
        s
    };
    (cut(&rc), cut(&nc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_strings_show_the_window_around_the_change() {
        let base = "x".repeat(300);
        let r = json!(format!("{base}A tail"));
        let n = json!(format!("{base}B tail"));
        let (a, b) = excerpts(&r, &n);
        assert!(a.starts_with('…') && a.contains("A tail"), "{a}");
        assert!(b.contains("B tail"), "{b}");
        assert!(a.chars().count() < 140);
    }

    #[test]
    fn positional_arrays_report_added_and_removed_items() {
        let d = Difference::between(&json!([1, 2]), &json!([1, 3, 4]));
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].path.as_str(), d[1].path.as_str()), ("[1]", "[2]"));
        assert_eq!(d[1].recorded, None);
    }
}
