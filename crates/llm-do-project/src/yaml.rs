//! YAML frontmatter as a tree of [`Node`]s, each with its position in the worker file.
//!
//! The only file that knows the YAML library (saphyr, a maintained YAML 1.2 parser that gives
//! every node a position, rejects duplicate keys and bounds alias expansion).
//!
//! Nesting is bounded before a tree is built: [`check_depth`] walks the parser's events (the
//! event parser keeps its state on the heap) and refuses a document nested more than
//! [`MAX_DEPTH`] levels; a tree a million levels deep (a 1 MiB file of `[`) would otherwise
//! overflow the stack when it is dropped.

use crate::diagnostic::Pos;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted in frontmatter (deeper documents are refused, not overflowed).
const MAX_DEPTH: usize = 64;

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) pos: Pos,
    pub(crate) kind: Kind,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A problem with the YAML itself: where, what, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
    pub(crate) expected: Option<String>,
}

impl YamlError {
    fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self { pos, message: message.into(), expected: None }
    }
}

/// Parses `text`, whose first line is line `first_line` of the file. An empty document is
/// `Ok(None)`.
pub(crate) fn parse(text: &str, first_line: usize) -> Result<Option<Node>, YamlError> {
    let to_pos = |line: usize, col: usize| Pos {
        line: first_line + line.saturating_sub(1),
        column: col + 1,
    };
    check_depth(text, &to_pos)?;
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        expected: Some("well-formed YAML".into()),
        ..YamlError::new(
            to_pos(e.marker().line(), e.marker().col()),
            format!("invalid YAML: {}", e.info()),
        )
    })?;
    let mut docs = docs.into_iter();
    let Some(first) = docs.next() else { return Ok(None) };
    if let Some(second) = docs.next() {
        let start = second.span.start;
        return Err(YamlError {
            expected: Some("a single YAML document between the `---` lines".into()),
            ..YamlError::new(
                to_pos(start.line(), start.col()),
                "a second YAML document starts here",
            )
        });
    }
    let node = convert(&first, &to_pos, 0)?;
    Ok(match node.kind {
        Kind::Null => None,
        _ => Some(node),
    })
}

/// Refuses a document nested more than [`MAX_DEPTH`] levels deep, at the collection that goes
/// too deep. Syntax errors are left to the loader, which reports them.
fn check_depth(text: &str, to_pos: &impl Fn(usize, usize) -> Pos) -> Result<(), YamlError> {
    use saphyr_parser::{Event, Parser};
    let mut depth = 0usize;
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { return Ok(()) };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(YamlError {
                        expected: Some(format!("at most {MAX_DEPTH} levels of nesting")),
                        ..YamlError::new(
                            to_pos(span.start.line(), span.start.col()),
                            format!("the YAML is nested more than {MAX_DEPTH} levels deep"),
                        )
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn convert(
    node: &MarkedYaml<'_>,
    to_pos: &impl Fn(usize, usize) -> Pos,
    depth: usize,
) -> Result<Node, YamlError> {
    let pos = to_pos(node.span.start.line(), node.span.start.col());
    if depth > MAX_DEPTH {
        return Err(YamlError::new(
            pos,
            format!("the YAML is nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    let kind = match &node.data {
        YamlData::Value(Scalar::Null) => Kind::Null,
        YamlData::Value(Scalar::Boolean(b)) => Kind::Bool(*b),
        YamlData::Value(Scalar::Integer(i)) => Kind::Int(*i),
        YamlData::Value(Scalar::FloatingPoint(f)) => Kind::Float(f.into_inner()),
        YamlData::Value(Scalar::String(s)) => Kind::Str(s.to_string()),
        YamlData::Representation(s, _, _) => Kind::Str(s.to_string()),
        YamlData::Sequence(items) => Kind::Seq(
            items.iter().map(|i| convert(i, to_pos, depth + 1)).collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => Kind::Map(
            map.iter()
                .map(|(k, v)| Ok((convert(k, to_pos, depth + 1)?, convert(v, to_pos, depth + 1)?)))
                .collect::<Result<_, YamlError>>()?,
        ),
        YamlData::Tagged(tag, _) => {
            return Err(YamlError {
                expected: Some("plain YAML without tags".into()),
                ..YamlError::new(pos, format!("YAML tags such as `{tag}` are not supported"))
            });
        }
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(YamlError::new(pos, "this YAML value cannot be read"));
        }
    };
    Ok(Node { pos, kind })
}

impl Node {
    /// What kind of value this is, for messages: "a string", "a list", ...
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node as JSON. Mapping keys must be strings.
    pub(crate) fn to_json(&self) -> Result<Value, YamlError> {
        Ok(match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => Value::Number((*i).into()),
            Kind::Float(f) => match Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(YamlError {
                        expected: Some("a finite number".into()),
                        ..YamlError::new(self.pos, format!("`{f}` has no JSON equivalent"))
                    });
                }
            },
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Seq(items) => {
                Value::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?)
            }
            Kind::Map(entries) => {
                let mut map = Map::new();
                for (k, v) in entries {
                    let Some(key) = k.as_str() else {
                        return Err(YamlError {
                            expected: Some("a string key".into()),
                            ..YamlError::new(k.pos, format!("a mapping key is {}", k.describe()))
                        });
                    };
                    map.insert(key.to_owned(), v.to_json()?);
                }
                Value::Object(map)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_offset_to_the_file() {
        let node = parse("name: x\ntools: [a]\n", 2).unwrap().unwrap();
        let Kind::Map(entries) = &node.kind else { panic!("{node:?}") };
        assert_eq!(entries[1].0.pos, Pos { line: 3, column: 1 });
        let Kind::Seq(items) = &entries[1].1.kind else { panic!() };
        assert_eq!(items[0].pos, Pos { line: 3, column: 9 });
    }

    #[test]
    fn syntax_errors_duplicates_tags_and_depth_are_errors() {
        assert_eq!(parse("a: [\n", 2).unwrap_err().pos.line, 3);
        assert!(parse("a: 1\na: 2\n", 2).unwrap_err().message.contains("duplicated key"));
        assert!(parse("a: !x 1\n", 2).unwrap_err().message.contains("tags"));
        let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep, 2).is_err());
        // Deep enough to overflow the stack when a tree is built and dropped: refused before.
        for deep in [
            format!("a: {}", "[".repeat(1 << 20)),
            format!("a: {}", "{a: ".repeat(200_000)),
            (0..1_000).map(|i| format!("{}- \n", "  ".repeat(i))).collect::<String>(),
            "- ".repeat(300_000),
        ] {
            // (saphyr's scanner has a limit of its own for flow collections)
            let e = parse(&deep, 2).unwrap_err();
            let said = ["nested more than 64 levels", "recursion limit exceeded"];
            assert!(said.iter().any(|s| e.message.contains(s)), "{}", e.message);
        }
        assert_eq!(parse("", 2).unwrap(), None);
        assert!(parse("a\n...\nb\n", 2).unwrap_err().message.contains("second YAML document"));
    }

    #[test]
    fn converts_to_json() {
        let node = parse("a: [1, 2.5, x, true, ~]\n", 1).unwrap().unwrap();
        assert_eq!(node.to_json().unwrap(), serde_json::json!({"a": [1, 2.5, "x", true, null]}));
        let bad = parse("a: .nan\n", 1).unwrap().unwrap();
        assert!(bad.to_json().is_err());
        let key = parse("1: x\n", 1).unwrap().unwrap();
        assert!(key.to_json().is_err());
    }
}
