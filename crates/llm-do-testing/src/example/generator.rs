//! The walk over a schema that builds an example, checking each value as it goes.
//!
//! Every schema node the generator visits proposes candidate values, best first; each candidate
//! is checked against that node with a compiled validator (`jsonschema`), and the first valid
//! one wins. Optional parts (optional properties, array items beyond `minItems`, `anyOf`
//! branches, alternative types) fall back to the next option when a candidate fails, so
//! recursive types bottom out and constraints the heuristics do not model (`not`,
//! `if`/`then`, `dependentRequired`, ...) still never let an invalid value through.
//!
//! This file holds the walk itself — locations, schema objects, `$ref`, the `anyOf`/`oneOf`/
//! `allOf` branches and the dispatch on `type` — which recurse into each other through one
//! walker state, and is longer than most modules for that reason; objects and arrays are in
//! `generator/containers.rs`, strings, numbers and booleans in `generator/leaves.rs`.

use super::error::{ExampleError, ExampleErrorKind as Kind};
use super::pattern::Pattern;
use super::rng::Rng;
use super::{merge, pointer, scalar};
use jsonschema::ValidatorMap;
use llm_do_core::bounds::cut;

mod containers;
mod leaves;
use serde_json::{Map, Value};

/// Deepest nesting of generated values (and schema nodes visited for one value).
const MAX_DEPTH: usize = 64;
/// Below this depth, optional parts (optional properties, illustrative items and map entries)
/// are left out, to keep examples of deep structures small.
const OPTIONAL_DEPTH: usize = 16;
/// After visiting this many schema nodes, optional parts are left out too (schemas whose
/// definitions refer to each other could otherwise unfold into huge examples).
const OPTIONAL_STEPS: usize = 2_000;
/// Most schema nodes visited for one example.
const MAX_STEPS: usize = 50_000;
/// Deepest schema document accepted (checked before compiling it).
const MAX_SCHEMA_DEPTH: usize = 256;
/// Most items generated for one array.
const MAX_ITEMS: usize = 1_000;
/// Longest string generated.
const MAX_STRING: usize = 100_000;
/// Longest message excerpt (values, validator messages) quoted in errors.
const EXCERPT: usize = 200;

/// Keywords whose values are data, not schemas.
const DATA_KEYWORDS: &[&str] = &["const", "enum", "default", "examples"];

/// Keywords that imply a type when `type` is absent.
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
];
const ARRAY_KEYWORDS: &[&str] =
    &["items", "prefixItems", "additionalItems", "minItems", "maxItems", "contains", "uniqueItems"];
const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern", "format"];
const NUMBER_KEYWORDS: &[&str] =
    &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];

/// Where a schema sits in the document: its pointer, whether a validator can check values
/// against it there (`false` for schemas built by merging, which exist nowhere in the
/// document), and the enclosing schemas that constrain the same value (the `oneOf` node around
/// a branch, the node whose `allOf` was merged), so that candidates are checked against those
/// too.
#[derive(Debug, Clone)]
struct Loc {
    at: String,
    checked: bool,
    also: Vec<String>,
}

impl Loc {
    /// The location of a schema for a part of this value (a property, an item).
    fn child(&self, token: &str) -> Loc {
        Loc { at: pointer::child(&self.at, token), checked: self.checked, also: Vec::new() }
    }

    /// The location of a schema found elsewhere (a `$ref` target) that describes this value.
    fn target(&self, at: String) -> Loc {
        Loc { at, checked: true, also: self.also.clone() }
    }

    /// The location of a subschema (a `oneOf` branch) that describes this same value.
    fn branch(&self, key: &str, index: usize) -> Loc {
        Loc {
            at: pointer::child(&pointer::child(&self.at, key), &index.to_string()),
            checked: self.checked,
            also: self.enclosing(),
        }
    }

    /// The location of a schema merged from this one (and others): not in the document.
    fn merged(&self) -> Loc {
        Loc { at: self.at.clone(), checked: false, also: self.enclosing() }
    }

    fn enclosing(&self) -> Vec<String> {
        let mut also = self.also.clone();
        if self.checked {
            also.push(self.at.clone());
        }
        also
    }

    fn err(&self, kind: Kind, message: impl Into<String>) -> ExampleError {
        ExampleError::new(kind, self.at.clone(), message)
    }

    fn keyword_err(&self, keyword: &str, kind: Kind, message: impl Into<String>) -> ExampleError {
        ExampleError::new(kind, pointer::child(&self.at, keyword), message)
    }
}

/// Generates an example for `root` (see [`example_value_seeded`](super::example_value_seeded)).
pub(super) fn generate(root: &Value, seed: u64) -> Result<Value, ExampleError> {
    precheck(root)?;
    let validators = compile(root)?;
    let mut generator = Generator {
        root,
        validators,
        seed,
        rng: Rng::new(seed),
        refs: vec![String::new()],
        depth: 0,
        steps: 0,
    };
    let top = Loc { at: String::new(), checked: true, also: Vec::new() };
    let value = generator.value(root, &top)?;
    generator.check(&top, &value)?;
    Ok(value)
}

/// Rejects documents nested so deeply that walking them recursively could exhaust the stack,
/// and references to other documents (which would need fetching).
fn precheck(root: &Value) -> Result<(), ExampleError> {
    // (node, its pointer, its depth, whether it is data such as a `const` rather than schema)
    let mut stack = vec![(root, String::new(), 0usize, false)];
    while let Some((value, at, depth, data)) = stack.pop() {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(ExampleError::new(
                Kind::TooDeep,
                "",
                format!("the schema is nested more than {MAX_SCHEMA_DEPTH} levels deep"),
            ));
        }
        match value {
            Value::Object(map) => {
                if let (false, Some(Value::String(reference))) = (data, map.get("$ref")) {
                    pointer::check_local(root, reference, &at)?;
                }
                for (key, child) in map {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        let data = data || DATA_KEYWORDS.contains(&key.as_str());
                        stack.push((child, pointer::child(&at, key), depth + 1, data));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        stack.push((child, pointer::child(&at, &i.to_string()), depth + 1, data));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Validators for every node of `root`, never fetching anything over the network.
fn compile(root: &Value) -> Result<ValidatorMap, ExampleError> {
    let options = jsonschema::options().offline().should_validate_formats(true);
    let invalid = |e: jsonschema::ValidationError<'_>| {
        ExampleError::new(
            Kind::InvalidSchema,
            e.instance_path().to_string(),
            cut(&format!("not a valid JSON Schema: {e}"), EXCERPT),
        )
    };
    let map = options.build_map(root).map_err(invalid)?;
    if !map.contains_key("#") {
        // The map skips nodes that do not compile; make the root's reason visible.
        options.build(root).map_err(invalid)?;
    }
    Ok(map)
}

struct Generator<'s> {
    root: &'s Value,
    validators: ValidatorMap,
    seed: u64,
    rng: Rng,
    /// Pointers of the `$ref` targets being expanded, outermost first (the root is `""`).
    refs: Vec<String>,
    /// Schema objects being visited (nesting of the walk).
    depth: usize,
    /// Schema objects visited so far.
    steps: usize,
}

impl Generator<'_> {
    /// `Ok` when `value` is valid for the schema at `loc` and its enclosing schemas (where they
    /// can be checked).
    fn check(&self, loc: &Loc, value: &Value) -> Result<(), ExampleError> {
        let own = loc.checked.then_some(&loc.at);
        for at in own.into_iter().chain(&loc.also) {
            let Some(validator) = self.validators.get(&format!("#{at}")) else { continue };
            validator.validate(value).map_err(|e| {
                ExampleError::new(
                    Kind::Unsatisfiable,
                    format!("{at}{}", e.schema_path()),
                    cut(&format!("found no valid value; the best candidate fails: {e}"), EXCERPT),
                )
            })?;
        }
        Ok(())
    }

    fn accept(&self, loc: &Loc, value: Value) -> Result<Value, ExampleError> {
        self.check(loc, &value).map(|()| value)
    }

    /// The first of `candidates` valid at `loc`, or the first failure.
    fn first_valid(
        &self,
        loc: &Loc,
        candidates: impl IntoIterator<Item = Value>,
        none: impl FnOnce() -> ExampleError,
    ) -> Result<Value, ExampleError> {
        let mut first_err = None;
        for candidate in candidates {
            match self.accept(loc, candidate) {
                Ok(v) => return Ok(v),
                Err(e) => keep_first(&mut first_err, e),
            }
        }
        Err(first_err.unwrap_or_else(none))
    }

    /// An example for `schema`, found at `loc`.
    fn value(&mut self, schema: &Value, loc: &Loc) -> Result<Value, ExampleError> {
        match schema {
            Value::Bool(true) => {
                let candidates = self.any_candidates();
                self.first_valid(loc, candidates, || loc.err(Kind::Unsatisfiable, "no value fits"))
            }
            Value::Bool(false) => {
                Err(loc.err(Kind::Unsatisfiable, "the `false` schema admits no value"))
            }
            Value::Object(map) => self.schema_object(map, loc),
            _ => Err(loc.err(Kind::InvalidSchema, "a schema must be an object or a boolean")),
        }
    }

    /// `true` while optional parts are still worth including.
    fn shallow(&self) -> bool {
        self.depth <= OPTIONAL_DEPTH && self.steps <= OPTIONAL_STEPS
    }

    /// An example for a schema object (possibly one merged from several), within the depth
    /// and step limits.
    fn schema_object(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        if self.depth >= MAX_DEPTH {
            return Err(loc.err(
                Kind::TooDeep,
                format!("the example would nest more than {MAX_DEPTH} levels"),
            ));
        }
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(loc.err(
                Kind::TooLarge,
                format!("finding an example takes more than {MAX_STEPS} steps"),
            ));
        }
        self.depth += 1;
        let result = self.schema_object_inner(map, loc);
        self.depth -= 1;
        result
    }

    fn schema_object_inner(
        &mut self,
        map: &Map<String, Value>,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        if let Some(value) = map.get("const") {
            return self.accept(loc, value.clone());
        }
        if let Some(values) = map.get("enum") {
            return self.enum_value(values, loc);
        }
        if let Some(reference) = map.get("$ref") {
            return self.follow(map, reference, loc);
        }
        if map.contains_key("allOf") {
            let flat = merge::flatten_map(self.root, map, &loc.at)?;
            let value = self.schema_object(&flat, &loc.merged())?;
            return self.accept(loc, value);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = map.get(key) {
                return self.branch_value(map, key, branches, loc);
            }
        }
        self.typed(map, loc)
    }

    fn enum_value(&mut self, values: &Value, loc: &Loc) -> Result<Value, ExampleError> {
        let Value::Array(values) = values else {
            return Err(loc.keyword_err("enum", Kind::InvalidSchema, "`enum` must be an array"));
        };
        let order: Vec<usize> = self.rng.rotation(values.len()).collect();
        self.first_valid(loc, order.into_iter().filter_map(|i| values.get(i).cloned()), || {
            loc.keyword_err("enum", Kind::Unsatisfiable, "`enum` lists no value")
        })
    }

    /// Follows a `$ref`, merging sibling keywords in when there are any.
    fn follow(
        &mut self,
        map: &Map<String, Value>,
        reference: &Value,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        let Value::String(reference) = reference else {
            return Err(loc.keyword_err("$ref", Kind::InvalidSchema, "`$ref` must be a string"));
        };
        let (target_at, target) = pointer::resolve(self.root, reference, &loc.at)?;
        self.enter(&target_at, reference, loc)?;
        let result = if merge::has_assertions(map, &["$ref"]) {
            merge::flatten_map(self.root, map, &loc.at)
                .and_then(|flat| self.schema_object(&flat, &loc.merged()))
                .and_then(|value| self.accept(loc, value))
        } else {
            self.value(target, &loc.target(target_at))
        };
        self.refs.pop();
        result
    }

    /// Starts expanding the `$ref` target at `target_at`; a target already being expanded
    /// means the reference recurses. Pair with `self.refs.pop()`.
    fn enter(&mut self, target_at: &str, reference: &str, loc: &Loc) -> Result<(), ExampleError> {
        if self.refs.iter().any(|r| r == target_at) {
            return Err(loc.keyword_err(
                "$ref",
                Kind::Recursion,
                format!("`$ref` \"{reference}\" leads back into itself with no way out"),
            ));
        }
        self.refs.push(target_at.to_owned());
        Ok(())
    }

    /// `oneOf` / `anyOf`: the first branch (nulls last) whose example is valid for the whole node.
    fn branch_value(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        branches: &Value,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        let Value::Array(branches) = branches else {
            return Err(loc.keyword_err(
                key,
                Kind::InvalidSchema,
                format!("`{key}` must be an array"),
            ));
        };
        let merge_siblings = merge::has_assertions(map, &[key]);
        let mut siblings = map.clone();
        siblings.shift_remove(key);
        let (nulls, others): (Vec<usize>, Vec<usize>) = self
            .rng
            .rotation(branches.len())
            .partition(|&i| branches.get(i).is_some_and(is_null_schema));
        let mut first_err = None;
        for i in others.into_iter().chain(nulls) {
            let Some(branch) = branches.get(i) else { continue };
            let branch_loc = loc.branch(key, i);
            let candidate = if merge_siblings {
                self.merged_branch(&siblings, branch, &branch_loc)
            } else {
                self.value(branch, &branch_loc)
            };
            match candidate.and_then(|v| self.accept(loc, v)) {
                Ok(v) => return Ok(v),
                Err(e) => keep_first(&mut first_err, e),
            }
        }
        Err(first_err.unwrap_or_else(|| {
            loc.keyword_err(key, Kind::Unsatisfiable, format!("`{key}` has no branch"))
        }))
    }

    /// An example for `branch` merged with the keywords around it (`siblings`).
    fn merged_branch(
        &mut self,
        siblings: &Map<String, Value>,
        branch: &Value,
        loc: &Loc,
    ) -> Result<Value, ExampleError> {
        let reference = branch.get("$ref").and_then(Value::as_str);
        if let Some(reference) = reference {
            let (target_at, _) = pointer::resolve(self.root, reference, &loc.at)?;
            self.enter(&target_at, reference, loc)?;
        }
        let result = merge::flatten(self.root, branch, &loc.at)
            .and_then(|flat| self.schema_object(&merge::merge(siblings, &flat), &loc.merged()));
        if reference.is_some() {
            self.refs.pop();
        }
        result
    }

    /// A schema without `const`/`enum`/`$ref`/combinators: by `type` (given or implied).
    fn typed(&mut self, map: &Map<String, Value>, loc: &Loc) -> Result<Value, ExampleError> {
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => {
                let ts: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
                if ts.is_empty() {
                    return Err(loc.keyword_err(
                        "type",
                        Kind::Unsatisfiable,
                        "`type` allows no type",
                    ));
                }
                ts
            }
            Some(_) => {
                return Err(loc.keyword_err(
                    "type",
                    Kind::InvalidSchema,
                    "`type` must be a string or an array",
                ));
            }
            None => implied_types(map),
        };
        if types.is_empty() {
            let candidates = self.any_candidates();
            return self
                .first_valid(loc, candidates, || loc.err(Kind::Unsatisfiable, "no value fits"));
        }
        let (nulls, others): (Vec<&str>, Vec<&str>) = {
            let order: Vec<usize> = self.rng.rotation(types.len()).collect();
            order.into_iter().filter_map(|i| types.get(i).copied()).partition(|t| *t == "null")
        };
        let mut first_err = None;
        for t in others.into_iter().chain(nulls) {
            let result = match t {
                "object" => self.object(map, loc),
                "array" => self.array(map, loc),
                "string" => self.string(map, loc),
                "integer" => self.number(map, loc, true),
                "number" => self.number(map, loc, false),
                "boolean" => self.boolean(loc),
                "null" => self.accept(loc, Value::Null),
                other => Err(loc.keyword_err(
                    "type",
                    Kind::InvalidSchema,
                    format!("unknown type \"{other}\""),
                )),
            };
            match result {
                Ok(v) => return Ok(v),
                Err(e) => keep_first(&mut first_err, e),
            }
        }
        Err(first_err.unwrap_or_else(|| {
            loc.keyword_err("type", Kind::Unsatisfiable, "`type` allows no type")
        }))
    }
}

/// Keeps the first error of a series of attempts, except that a later one says more than a
/// recursion error (which only means "this way leads back into itself").
fn keep_first(first: &mut Option<ExampleError>, error: ExampleError) {
    let replace = match first {
        None => true,
        Some(kept) => kept.kind() == Kind::Recursion && error.kind() != Kind::Recursion,
    };
    if replace {
        *first = Some(error);
    }
}

/// `true` for branches that only admit `null` (tried last among `anyOf`/`oneOf` branches).
fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
        || schema.get("const") == Some(&Value::Null)
}

/// The types a schema without `type` implies through its keywords, most specific first.
fn implied_types(map: &Map<String, Value>) -> Vec<&'static str> {
    let has = |keywords: &[&str]| keywords.iter().any(|k| map.contains_key(*k));
    let mut out = Vec::new();
    if has(OBJECT_KEYWORDS) {
        out.push("object");
    }
    if has(ARRAY_KEYWORDS) {
        out.push("array");
    }
    if has(STRING_KEYWORDS) {
        out.push("string");
    }
    if has(NUMBER_KEYWORDS) {
        out.push("number");
    }
    out
}
