//! Objects and arrays: the generator's two container kinds — required and optional
//! properties, property names and additional properties; items, `prefixItems`, `contains`
//! and `uniqueItems`. (Split from the walk in `generator.rs`, which they call back into.)

use super::{ExampleError, Generator, Kind, Loc, MAX_ITEMS, Rng, scalar};
use serde_json::{Map, Value};

impl Generator<'_> {
    pub(super) fn object(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        let empty = Map::new();
        let properties = match map.get("properties") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Err(loc.keyword_err(
                    "properties",
                    Kind::InvalidSchema,
                    "`properties` must be an object",
                ));
            }
        };
        let required: Vec<&str> = match map.get("required") {
            None => Vec::new(),
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            Some(_) => {
                return Err(loc.keyword_err(
                    "required",
                    Kind::InvalidSchema,
                    "`required` must be an array",
                ));
            }
        };
        let additional = map.get("additionalProperties");
        let min_props = scalar::count(map, "minProperties").unwrap_or(0);
        let max_props = scalar::count(map, "maxProperties");

        let shallow = self.shallow();
        let mut out = Map::new();
        let mut optional: Vec<String> = Vec::new();
        let properties_loc = loc.child("properties");
        for (name, schema) in properties {
            let property_loc = properties_loc.child(name);
            if required.contains(&name.as_str()) {
                let value = self.value(schema, &property_loc)?;
                out.insert(name.clone(), value);
            } else if !shallow {
                continue;
            } else if let Ok(value) = self.value(schema, &property_loc) {
                out.insert(name.clone(), value);
                optional.push(name.clone());
            }
        }
        for name in required.iter().filter(|n| !properties.contains_key(**n)) {
            let value = self.additional_value(additional, loc)?;
            out.insert((*name).to_owned(), value);
        }

        // Maps (no named properties, a schema for the values) get one illustrative entry.
        let wants_entry =
            shallow && properties.is_empty() && matches!(additional, Some(Value::Object(_)));
        let wanted = min_props.max(usize::from(wants_entry)).min(max_props.unwrap_or(usize::MAX));
        if min_props > MAX_ITEMS {
            return Err(loc.keyword_err(
                "minProperties",
                Kind::TooLarge,
                format!("more than {MAX_ITEMS} properties"),
            ));
        }
        let mut n = 0usize;
        while out.len() < wanted {
            n += 1;
            let entry = self
                .property_name(map, loc, n, &out)
                .and_then(|name| self.additional_value(additional, loc).map(|value| (name, value)));
            match entry {
                Ok((name, value)) => {
                    out.insert(name.clone(), value);
                    optional.push(name);
                }
                Err(_) if out.len() >= min_props => break,
                Err(e) => return Err(e),
            }
        }
        if let Some(max) = max_props {
            while out.len() > max {
                let Some(name) = optional.pop() else { break };
                out.shift_remove(&name);
            }
        }

        if optional.is_empty() {
            return self.accept(loc, Value::Object(out));
        }
        let mut minimal = out.clone();
        for name in &optional {
            minimal.shift_remove(name);
        }
        match self.accept(loc, Value::Object(out)) {
            Ok(v) => Ok(v),
            Err(e) if minimal.len() >= min_props => {
                self.accept(loc, Value::Object(minimal)).map_err(|_| e)
            }
            Err(e) => Err(e),
        }
    }

    /// A value for a property not listed in `properties`.
    fn additional_value(
        &mut self,
        additional: Option<&Value>,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        match additional {
            None => Ok(self.any_value()),
            Some(schema) => self.value(schema, &loc.child("additionalProperties")),
        }
    }

    /// The name of the `n`th extra property (1-based), distinct from those in `taken`.
    fn property_name(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
        n: usize,
        taken: &Map<String, Value>,
    ) -> Result<String, ExampleError> {
        let base = match map.get("propertyNames") {
            None => "key".to_owned(),
            Some(schema) => match self.value(schema, &loc.child("propertyNames"))? {
                Value::String(s) => s,
                _ => {
                    return Err(loc.keyword_err(
                        "propertyNames",
                        Kind::Unsatisfiable,
                        "property names must be strings",
                    ));
                }
            },
        };
        let name = if n == 1 && !taken.contains_key(&base) { base } else { format!("{base}{n}") };
        if taken.contains_key(&name) {
            return Err(loc.keyword_err(
                "propertyNames",
                Kind::Unsatisfiable,
                "found no further property name",
            ));
        }
        if map.contains_key("propertyNames") {
            self.accept(&loc.child("propertyNames"), Value::String(name.clone()))?;
        }
        Ok(name)
    }

    pub(super) fn array(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        let no_prefix = Vec::new();
        // Before 2020-12, `items` as an array (with `additionalItems`) is what `prefixItems` is now.
        let (prefix, prefix_key, rest, rest_key) = match map.get("items") {
            Some(Value::Array(tuple)) => {
                (tuple, "items", map.get("additionalItems"), "additionalItems")
            }
            items => match map.get("prefixItems") {
                Some(Value::Array(prefix)) => (prefix, "prefixItems", items, "items"),
                Some(_) => {
                    return Err(loc.keyword_err(
                        "prefixItems",
                        Kind::InvalidSchema,
                        "`prefixItems` must be an array",
                    ));
                }
                None => (&no_prefix, "prefixItems", items, "items"),
            },
        };
        let contains = map.get("contains");
        let min = scalar::count(map, "minItems").unwrap_or(0);
        let max = scalar::count(map, "maxItems");
        if min > MAX_ITEMS {
            return Err(loc.keyword_err(
                "minItems",
                Kind::TooLarge,
                format!("more than {MAX_ITEMS} items"),
            ));
        }
        if max.is_some_and(|max| max < min) {
            return Err(loc.keyword_err(
                "maxItems",
                Kind::Unsatisfiable,
                "`maxItems` is below `minItems`",
            ));
        }
        let unique = map.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false);
        let illustrate =
            (self.shallow() && matches!(rest, Some(Value::Object(_)))) || contains.is_some();
        let target =
            (prefix.len() + usize::from(illustrate)).max(min).min(max.unwrap_or(usize::MAX));

        let mut out: Vec<Value> = Vec::new();
        let mut contains_pending = contains.is_some();
        for i in 0..target {
            let item = if let Some(schema) = prefix.get(i) {
                self.unique_item(schema, &loc.child(prefix_key).child(&i.to_string()), unique, &out)
            } else if let (true, Some(schema)) = (contains_pending, contains) {
                contains_pending = false;
                self.unique_item(schema, &loc.child("contains"), unique, &out)
            } else {
                let schema = rest.unwrap_or(&Value::Bool(true));
                self.unique_item(schema, &loc.child(rest_key), unique, &out)
            };
            match item {
                Ok(v) => out.push(v),
                Err(_) if i >= min => break,
                Err(e) => return Err(e),
            }
        }
        if out.len() <= min {
            return self.accept(loc, Value::Array(out));
        }
        let minimal: Vec<Value> = out.iter().take(min).cloned().collect();
        match self.accept(loc, Value::Array(out)) {
            Ok(v) => Ok(v),
            Err(e) => self.accept(loc, Value::Array(minimal)).map_err(|_| e),
        }
    }

    /// An item for `schema`; with `unique`, one different from every item in `taken` (trying
    /// a few variations of the choices).
    fn unique_item(
        &mut self,
        schema: &Value,
        loc: &Loc,
        unique: bool,
        taken: &[Value],
    ) -> Result<Value, ExampleError> {
        let first = self.value(schema, loc)?;
        if !unique || !taken.contains(&first) {
            return Ok(first);
        }
        for variant in 1..=16u64 {
            let seed = (self.seed ^ variant.wrapping_mul(0x9E37_79B9_7F4A_7C15)).max(1);
            let saved = std::mem::replace(&mut self.rng, Rng::new(seed));
            let candidate = self.value(schema, loc);
            self.rng = saved;
            if let Ok(v) = candidate
                && !taken.contains(&v)
            {
                return Ok(v);
            }
        }
        Err(loc.err(Kind::Unsatisfiable, "found no further distinct item for `uniqueItems`"))
    }
}
