//! Candidate strings and numbers for the scalar keywords: formats, lengths and numeric bounds.

use super::rng::Rng;
use serde_json::{Map, Number, Value};

/// Words used for unconstrained strings; the canonical choice is the first.
const WORDS: &[&str] = &["example", "sample", "hello", "value", "test", "alpha"];

/// A plausible value for a string `format`, `None` for formats it does not know (those are
/// annotations and constrain nothing).
pub(super) fn format_example(format: &str) -> Option<&'static str> {
    Some(match format {
        "date-time" => "2024-01-01T00:00:00Z",
        "date" => "2024-01-01",
        "time" => "12:00:00Z",
        "duration" => "P1D",
        "email" | "idn-email" => "user@example.com",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "uri" | "iri" | "uri-reference" | "iri-reference" | "url" => "https://example.com/",
        "uri-template" => "https://example.com/{id}",
        "uuid" => "123e4567-e89b-42d3-a456-426614174000",
        "json-pointer" => "/example",
        "relative-json-pointer" => "0",
        "regex" => "^example$",
        _ => return None,
    })
}

/// A readable string of `min..=max` characters.
pub(super) fn plain_string(rng: &mut Rng, min: usize, max: Option<usize>) -> String {
    let word = WORDS.get(rng.choose(WORDS.len())).copied().unwrap_or("example");
    fit(word, min, max)
}

/// Distinct readable strings of `min..=max` characters, the [`plain_string`] choice first.
pub(super) fn plain_strings(rng: &mut Rng, min: usize, max: Option<usize>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in rng.rotation(WORDS.len()) {
        let text = fit(WORDS.get(i).copied().unwrap_or("example"), min, max);
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// `word` repeated or cut to `min..=max` characters.
fn fit(word: &str, min: usize, max: Option<usize>) -> String {
    let len = word.chars().count().max(min);
    let len = max.map_or(len, |max| len.min(max));
    word.chars().cycle().take(len).collect()
}

/// `text` padded with `x` (at the end, or the front) to at least `min` characters.
pub(super) fn pad(text: &str, min: usize, front: bool) -> String {
    let missing = min.saturating_sub(text.chars().count());
    let padding = "x".repeat(missing);
    if front { padding + text } else { format!("{text}{padding}") }
}

/// A non-negative integer keyword (`minLength`, `maxItems`, ...), saturating on overflow.
pub(super) fn count(map: &Map<String, Value>, key: &str) -> Option<usize> {
    let v = map.get(key)?;
    v.as_u64()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as usize))
}

/// Lower and upper bounds of a numeric schema: `(value, exclusive)`.
struct Bounds {
    lo: Option<(f64, bool)>,
    hi: Option<(f64, bool)>,
}

impl Bounds {
    fn of(map: &Map<String, Value>) -> Self {
        let num = |k: &str| map.get(k).and_then(Value::as_f64);
        let flag = |k: &str| map.get(k).and_then(Value::as_bool).unwrap_or(false);
        // Draft 4 spells exclusivity as a boolean next to minimum/maximum.
        let lo = tighter(
            num("minimum").map(|m| (m, flag("exclusiveMinimum"))),
            num("exclusiveMinimum").map(|m| (m, true)),
            true,
        );
        let hi = tighter(
            num("maximum").map(|m| (m, flag("exclusiveMaximum"))),
            num("exclusiveMaximum").map(|m| (m, true)),
            false,
        );
        Self { lo, hi }
    }

    fn admits(&self, x: f64) -> bool {
        let above = self.lo.is_none_or(|(lo, excl)| if excl { x > lo } else { x >= lo });
        let below = self.hi.is_none_or(|(hi, excl)| if excl { x < hi } else { x <= hi });
        above && below && x.is_finite()
    }
}

fn tighter(a: Option<(f64, bool)>, b: Option<(f64, bool)>, lower: bool) -> Option<(f64, bool)> {
    match (a, b) {
        (Some(x), Some(y)) => {
            let x_tighter = if lower {
                x.0 > y.0 || (x.0 == y.0 && x.1)
            } else {
                x.0 < y.0 || (x.0 == y.0 && x.1)
            };
            Some(if x_tighter { x } else { y })
        }
        (x, y) => x.or(y),
    }
}

/// Candidate numbers for an `integer` (or `number`) schema, best first. The error says why
/// there are none.
pub(super) fn number_candidates(
    map: &Map<String, Value>,
    integer: bool,
    rng: &mut Rng,
) -> Result<Vec<Value>, String> {
    let bounds = Bounds::of(map);
    let multiple =
        map.get("multipleOf").and_then(Value::as_f64).filter(|m| *m > 0.0 && m.is_finite());
    let preferred = if rng.is_canonical() { 0.0 } else { (rng.next_u64() % 100) as f64 };

    if let (Some((lo, lo_excl)), Some((hi, hi_excl))) = (bounds.lo, bounds.hi)
        && (lo > hi || (lo == hi && (lo_excl || hi_excl)))
    {
        return Err("the lower bound is above the upper bound".to_owned());
    }
    let lo = bounds.lo.map(|(lo, excl)| step(lo, excl, integer, true));
    let hi = bounds.hi.map(|(hi, excl)| step(hi, excl, integer, false));
    // The preferred value moved inside the bounds, then the bounds themselves, then between.
    let clamped = match (lo, hi) {
        (Some(lo), _) if preferred < lo => lo,
        (_, Some(hi)) if preferred > hi => hi,
        _ => preferred,
    };
    let mut raw: Vec<f64> = vec![clamped];
    raw.extend(lo);
    raw.extend(hi);
    if let (Some((lo, _)), Some((hi, _))) = (bounds.lo, bounds.hi) {
        raw.push(mid(lo, hi, integer));
    }
    if !integer {
        // A non-integral number, for places that must tell numbers from integers.
        raw.push(clamped + 0.5);
    }

    let mut out: Vec<f64> = Vec::new();
    for x in raw {
        let options = match multiple {
            None => vec![x],
            Some(m) => {
                let places = decimals(m);
                vec![round_to((x / m).ceil() * m, places), round_to((x / m).floor() * m, places)]
            }
        };
        for x in options {
            let fits = bounds.admits(x) && (!integer || x.fract() == 0.0);
            if fits && !out.contains(&x) {
                out.push(x);
            }
        }
    }
    let values: Vec<Value> = out.into_iter().filter_map(|x| to_json(x, integer)).collect();
    if values.is_empty() {
        return Err("no number satisfies the bounds and `multipleOf`".to_owned());
    }
    Ok(values)
}

/// A round value at or inside a bound: the bound itself, or one step (1) past an exclusive
/// one. When that step overshoots a narrow range, the midpoint candidate takes over.
fn step(bound: f64, exclusive: bool, integer: bool, lower: bool) -> f64 {
    let dir = if lower { 1.0 } else { -1.0 };
    match (integer, exclusive) {
        (true, false) => {
            if lower {
                bound.ceil()
            } else {
                bound.floor()
            }
        }
        (true, true) => {
            if lower {
                bound.floor() + 1.0
            } else {
                bound.ceil() - 1.0
            }
        }
        (false, false) => bound,
        (false, true) => bound + dir,
    }
}

fn mid(lo: f64, hi: f64, integer: bool) -> f64 {
    let m = lo / 2.0 + hi / 2.0;
    if integer { m.floor() } else { m }
}

/// Decimal places in the shortest representation of `m` (for rounding multiples of it).
fn decimals(m: f64) -> i32 {
    let text = format!("{m}");
    text.split_once('.').map_or(0, |(_, frac)| i32::try_from(frac.len()).unwrap_or(0))
}

fn round_to(x: f64, places: i32) -> f64 {
    if places == 0 {
        return x;
    }
    let factor = 10f64.powi(places.min(15));
    (x * factor).round() / factor
}

fn to_json(x: f64, integer: bool) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    if integer {
        // Both casts are exact for integral values inside these ranges.
        if (0.0..18_446_744_073_709_551_616.0).contains(&x) {
            return Some(Value::Number(Number::from(x as u64)));
        }
        if (-9_223_372_036_854_775_808.0..0.0).contains(&x) {
            return Some(Value::Number(Number::from(x as i64)));
        }
    }
    Number::from_f64(x).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nums(schema: Value, integer: bool) -> Result<Vec<Value>, String> {
        let Value::Object(map) = schema else { return Err("not an object".into()) };
        number_candidates(&map, integer, &mut Rng::new(0))
    }

    #[test]
    fn integer_bounds() {
        assert_eq!(nums(json!({}), true).map(|v| v[0].clone()), Ok(json!(0)));
        assert_eq!(nums(json!({"minimum": 3}), true).map(|v| v[0].clone()), Ok(json!(3)));
        assert_eq!(nums(json!({"exclusiveMinimum": 3}), true).map(|v| v[0].clone()), Ok(json!(4)));
        assert_eq!(nums(json!({"maximum": -2}), true).map(|v| v[0].clone()), Ok(json!(-2)));
        assert_eq!(
            nums(json!({"minimum": 5, "multipleOf": 4}), true).map(|v| v[0].clone()),
            Ok(json!(8))
        );
        assert!(nums(json!({"minimum": 5, "maximum": 6, "multipleOf": 4}), true).is_err());
        assert!(nums(json!({"minimum": 5, "maximum": 4}), true).is_err());
        assert!(nums(json!({"exclusiveMinimum": 1, "exclusiveMaximum": 2}), true).is_err());
    }

    #[test]
    fn number_bounds() {
        assert_eq!(nums(json!({}), false).map(|v| v[0].clone()), Ok(json!(0.0)));
        let v = nums(json!({"exclusiveMinimum": 0, "exclusiveMaximum": 1}), false).expect("some");
        assert_eq!(v[0], json!(0.5));
        assert_eq!(
            nums(json!({"exclusiveMinimum": 2.5}), false).map(|v| v[0].clone()),
            Ok(json!(3.5))
        );
        let v = nums(json!({"minimum": 0.25, "multipleOf": 0.1}), false).expect("some");
        assert_eq!(v[0], json!(0.3));
    }

    #[test]
    fn strings() {
        let mut rng = Rng::new(0);
        assert_eq!(plain_string(&mut rng, 0, None), "example");
        assert_eq!(plain_string(&mut rng, 10, None), "exampleexa");
        assert_eq!(plain_string(&mut rng, 0, Some(3)), "exa");
        assert_eq!(plain_strings(&mut rng, 0, Some(1)), ["e", "s", "h", "v", "t", "a"]);
        assert_eq!(pad("ab", 4, false), "abxx");
        assert_eq!(pad("ab", 4, true), "xxab");
        assert_eq!(format_example("date"), Some("2024-01-01"));
        assert_eq!(format_example("int32"), None);
    }
}
