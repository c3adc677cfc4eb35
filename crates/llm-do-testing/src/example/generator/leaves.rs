//! Strings, numbers, booleans and values of any type: the leaves of the walk in
//! `generator.rs`.

use super::{ExampleError, Generator, Kind, Loc, MAX_STRING, Pattern, keep_first, scalar};
use serde_json::{Map, Value};

impl Generator<'_> {
    pub(super) fn string(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        let min = scalar::count(map, "minLength").unwrap_or(0);
        let max = scalar::count(map, "maxLength");
        if min > MAX_STRING {
            return Err(loc.keyword_err(
                "minLength",
                Kind::TooLarge,
                format!("strings longer than {MAX_STRING} characters"),
            ));
        }
        if max.is_some_and(|max| max < min) {
            return Err(loc.keyword_err(
                "maxLength",
                Kind::Unsatisfiable,
                "`maxLength` is below `minLength`",
            ));
        }
        let fits = |s: &str| {
            let len = s.chars().count();
            len >= min && max.is_none_or(|max| len <= max)
        };
        if let Some(pattern) = map.get("pattern") {
            let Value::String(pattern) = pattern else {
                return Err(loc.keyword_err(
                    "pattern",
                    Kind::InvalidSchema,
                    "`pattern` must be a string",
                ));
            };
            let parsed = Pattern::parse(pattern)
                .map_err(|m| loc.keyword_err("pattern", Kind::Unsupported, m))?;
            let mut first_err = None;
            let tries = u32::try_from(min.saturating_add(2).min(256)).unwrap_or(256);
            for extra in 0..tries {
                let sample = match parsed.sample(extra, &mut self.rng) {
                    Ok(s) => s,
                    Err(m) => {
                        first_err.get_or_insert(loc.keyword_err("pattern", Kind::Unsatisfiable, m));
                        break;
                    }
                };
                let too_long = max.is_some_and(|max| sample.chars().count() > max);
                let mut candidates = vec![sample.clone()];
                for front in [false, true] {
                    let padded = scalar::pad(&sample, min, front);
                    if !candidates.contains(&padded) {
                        candidates.push(padded);
                    }
                }
                for candidate in candidates.into_iter().filter(|c| fits(c)) {
                    match self.accept(loc, Value::String(candidate)) {
                        Ok(v) => return Ok(v),
                        Err(e) => keep_first(&mut first_err, e),
                    }
                }
                if too_long {
                    break;
                }
            }
            return Err(first_err.unwrap_or_else(|| {
                loc.keyword_err(
                    "pattern",
                    Kind::Unsatisfiable,
                    format!("found no string matching {pattern:?} with the required length"),
                )
            }));
        }
        if let Some(example) =
            map.get("format").and_then(Value::as_str).and_then(scalar::format_example)
        {
            return self.accept(loc, Value::String(example.to_owned()));
        }
        let texts = scalar::plain_strings(&mut self.rng, min, max);
        self.first_valid(loc, texts.into_iter().map(Value::String), || {
            loc.err(Kind::Unsatisfiable, "no string fits")
        })
    }

    pub(super) fn number(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
        integer: bool,
    ) -> Result<Value, ExampleError> {
        let candidates = scalar::number_candidates(map, integer, &mut self.rng)
            .map_err(|m| loc.err(Kind::Unsatisfiable, m))?;
        self.first_valid(loc, candidates, || loc.err(Kind::Unsatisfiable, "no number fits"))
    }

    pub(super) fn boolean(&mut self, loc: &Loc) -> Result<Value, ExampleError> {
        let first = self.rng.choose(2) == 1;
        self.first_valid(loc, [Value::Bool(first), Value::Bool(!first)], || {
            loc.err(Kind::Unsatisfiable, "no boolean fits")
        })
    }

    /// The value used where anything is allowed: a string (`"example"` when canonical).
    pub(super) fn any_value(&mut self) -> Value {
        Value::String(scalar::plain_string(&mut self.rng, 0, None))
    }

    /// Values of every type, for schemas that constrain values without implying a type.
    pub(super) fn any_candidates(&mut self) -> Vec<Value> {
        vec![
            self.any_value(),
            Value::from(0),
            Value::Bool(false),
            Value::Null,
            Value::Object(Map::new()),
            Value::Array(Vec::new()),
        ]
    }
}
