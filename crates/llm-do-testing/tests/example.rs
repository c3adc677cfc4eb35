//! `example_value` against schemas derived from real Rust types and hand-written ones: every
//! example must validate (formats included) and, for Rust types, deserialize back.

use llm_do_testing::example::{ExampleErrorKind, example_value, example_value_seeded};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroU32;

fn schema_for<T: JsonSchema>() -> Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

fn assert_valid(schema: &Value, value: &Value, what: &str) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("{what}: schema does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(value).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{what}: example {value} is invalid: {errors:?}\nschema: {schema:#}"
    );
}

/// Generates examples for `T` (canonical and seeded), validates them and deserializes them.
fn round_trip<T: JsonSchema + DeserializeOwned>() -> Value {
    let name = std::any::type_name::<T>();
    let schema = schema_for::<T>();
    let canonical =
        example_value(&schema).unwrap_or_else(|e| panic!("{name}: {e}\nschema: {schema:#}"));
    for seed in 0..25 {
        let value = example_value_seeded(&schema, seed)
            .unwrap_or_else(|e| panic!("{name} (seed {seed}): {e}"));
        assert_valid(&schema, &value, &format!("{name} (seed {seed})"));
        if let Err(e) = serde_json::from_value::<T>(value.clone()) {
            panic!("{name} (seed {seed}): example {value} does not deserialize: {e}");
        }
    }
    assert_eq!(example_value(&schema).ok(), Some(canonical.clone()), "{name}: not deterministic");
    canonical
}

#[allow(dead_code)]
mod types {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    pub enum Category {
        Bug,
        Billing,
        Feature,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum Internal {
        Text { body: String },
        Empty,
        Wrapped(Inner),
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(tag = "t", content = "c")]
    pub enum Adjacent {
        Number(i64),
        Pair(u8, String),
        Nothing,
    }

    #[derive(Deserialize, JsonSchema)]
    pub enum External {
        Unit,
        Tuple(u8, String),
        Struct { flag: bool },
        Newtype(Inner),
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(untagged)]
    pub enum Untagged {
        Id(u32),
        Name(String),
        Full { first: String, last: String },
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Inner {
        pub name: String,
        pub score: f32,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Nested {
        pub title: String,
        pub maybe_count: Option<u32>,
        pub tags: Vec<String>,
        pub inner: Inner,
        pub by_name: HashMap<String, Inner>,
        pub ordered: BTreeMap<String, i64>,
        pub unique: HashSet<String>,
        pub category: Option<Category>,
        pub small: u8,
        pub signed: i8,
        pub nonzero: NonZeroU32,
        pub letter: char,
        pub triple: [u16; 3],
        pub pair: (bool, f64),
        pub anything: Value,
        #[serde(default)]
        pub defaulted: Vec<Internal>,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Tree {
        pub value: u8,
        pub children: Vec<Tree>,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct List {
        pub head: i32,
        pub next: Option<Box<List>>,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Forest {
        pub trees: Vec<Tree>,
        pub expr: Expr,
    }

    #[derive(Deserialize, JsonSchema)]
    pub enum Expr {
        Lit(i64),
        Add(Box<Expr>, Box<Expr>),
        Neg(Box<Expr>),
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Flattened {
        pub id: u64,
        #[serde(flatten)]
        pub inner: Inner,
        #[serde(flatten)]
        pub extra: HashMap<String, Value>,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Validated {
        #[schemars(range(min = 1, max = 10))]
        pub rating: u8,
        #[schemars(range(min = 0.5, max = 2.5))]
        pub factor: f64,
        #[schemars(length(min = 3, max = 5))]
        pub code: String,
        #[schemars(length(min = 2))]
        pub items: Vec<Category>,
        #[schemars(email)]
        pub email: String,
        #[schemars(url)]
        pub homepage: String,
        #[schemars(regex(pattern = r"^[A-Z]{2}-\d{3,}$"))]
        pub sku: String,
        #[schemars(contains(pattern = "needle"))]
        pub haystack: String,
    }

    #[derive(Deserialize, JsonSchema)]
    pub struct Unit;

    #[derive(Deserialize, JsonSchema)]
    pub struct Wrapper(pub Vec<Option<Internal>>);
}

#[test]
fn rust_types_round_trip() {
    use types::*;
    assert_eq!(round_trip::<Category>(), json!("Bug"));
    assert_eq!(round_trip::<Internal>(), json!({"type": "text", "body": "example"}));
    round_trip::<Adjacent>();
    assert_eq!(round_trip::<External>(), json!("Unit"));
    assert_eq!(round_trip::<Untagged>(), json!(0));
    round_trip::<Nested>();
    assert_eq!(round_trip::<Tree>(), json!({"value": 0, "children": []}));
    assert_eq!(round_trip::<List>(), json!({"head": 0, "next": null}));
    round_trip::<Forest>();
    round_trip::<Expr>();
    round_trip::<Flattened>();
    round_trip::<Validated>();
    round_trip::<Unit>();
    round_trip::<Wrapper>();
    round_trip::<Vec<Internal>>();
    round_trip::<Option<Category>>();
    round_trip::<HashMap<String, Vec<Adjacent>>>();
    round_trip::<(u8, String, Option<bool>)>();
    round_trip::<()>();
    round_trip::<String>();
    round_trip::<f32>();
}

#[test]
fn nested_struct_example_is_readable() {
    let value = round_trip::<types::Nested>();
    assert_eq!(value["title"], "example");
    assert_eq!(value["maybeCount"], 0);
    assert_eq!(value["tags"], json!(["example"]));
    assert_eq!(value["byName"], json!({"key": {"name": "example", "score": 0.0}}));
    assert_eq!(value["letter"], "e");
    assert_eq!(value["triple"], json!([0, 0, 0]));
    assert_eq!(value["nonzero"], 1);
    assert_eq!(value["anything"], "example");
}

#[test]
fn validated_struct_respects_attributes() {
    let value = round_trip::<types::Validated>();
    assert_eq!(value["rating"], 1);
    assert_eq!(value["factor"], 0.5);
    assert_eq!(value["code"], "examp");
    assert_eq!(value["items"], json!(["Bug", "Bug"]));
    assert_eq!(value["email"], "user@example.com");
    assert_eq!(value["sku"], "AA-000");
    assert_eq!(value["haystack"], "needle");
}

/// Hand-written schemas, each with the example expected for seed 0.
#[test]
fn hand_written_schemas() {
    let table = [
        (json!(true), json!("example")),
        (json!({}), json!("example")),
        (json!({"type": "string", "format": "date-time"}), json!("2024-01-01T00:00:00Z")),
        (json!({"type": "string", "format": "date"}), json!("2024-01-01")),
        (json!({"type": "string", "format": "time"}), json!("12:00:00Z")),
        (json!({"type": "string", "format": "email"}), json!("user@example.com")),
        (json!({"type": "string", "format": "uri"}), json!("https://example.com/")),
        (
            json!({"type": "string", "format": "uuid"}),
            json!("123e4567-e89b-42d3-a456-426614174000"),
        ),
        (json!({"type": "string", "format": "ipv4"}), json!("192.0.2.1")),
        (json!({"type": "string", "format": "ipv6"}), json!("2001:db8::1")),
        (json!({"type": "string", "format": "hostname"}), json!("example.com")),
        (json!({"type": "string", "format": "duration"}), json!("P1D")),
        (json!({"type": "string", "format": "made-up"}), json!("example")),
        (json!({"type": "string", "minLength": 10}), json!("exampleexa")),
        (json!({"type": "string", "maxLength": 3}), json!("exa")),
        (json!({"type": "string", "pattern": "^\\d{4}-\\d{2}$"}), json!("0000-00")),
        (json!({"type": "string", "pattern": "^[a-z]{2}\\d+$", "minLength": 6}), json!("aa0000")),
        (json!({"type": "string", "pattern": "ab", "minLength": 4}), json!("abxx")),
        (json!({"type": "string", "not": {"const": "example"}}), json!("sample")),
        (json!({"type": "integer", "minimum": 5}), json!(5)),
        (json!({"type": "integer", "maximum": -3}), json!(-3)),
        (json!({"type": "integer", "exclusiveMinimum": 5, "multipleOf": 4}), json!(8)),
        (json!({"type": "integer", "minimum": 10, "maximum": 20}), json!(10)),
        (json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}), json!(0.5)),
        (json!({"type": "number", "minimum": 0.25, "multipleOf": 0.1}), json!(0.3)),
        (json!({"type": "number", "minimum": 1.5}), json!(1.5)),
        (json!({"type": "boolean"}), json!(false)),
        (json!({"type": "null"}), json!(null)),
        (json!({"type": ["null", "string"]}), json!("example")),
        (json!({"type": ["integer", "null"], "minimum": 2}), json!(2)),
        (json!({"const": {"a": 1}}), json!({"a": 1})),
        (json!({"const": {"$ref": "https://example.com"}}), json!({"$ref": "https://example.com"})),
        (json!({"enum": ["x", 1, null]}), json!("x")),
        (json!({"minimum": 3}), json!(3.0)),
        (json!({"minLength": 2, "maxLength": 2}), json!("ex")),
        (json!({"not": {"type": "string"}}), json!(0)),
        (
            json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": false}),
            json!([0, "example"]),
        ),
        (
            json!({"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "boolean"}, "minItems": 3}),
            json!([0, false, false]),
        ),
        (
            json!({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}),
            json!([0, 0]),
        ),
        (json!({"type": "array", "items": {"type": "integer"}, "maxItems": 0}), json!([])),
        (
            json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": [{"const": 1}], "additionalItems": false}),
            json!([1]),
        ),
        (json!({"type": "array"}), json!([])),
        (json!({"type": "array", "minItems": 2, "uniqueItems": true}), json!(["example", "hello"])),
        (json!({"type": "array", "contains": {"const": 7}}), json!([7])),
        (
            json!({"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 3, "uniqueItems": true}),
            json!([0, 42, 1]),
        ),
        (
            json!({"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": true}),
            json!(["a", "b", "c"]),
        ),
        (
            json!({"allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "string"}}, "required": ["b"]},
                {"properties": {"a": {"minimum": 3}}}
            ]}),
            json!({"a": 3, "b": "example"}),
        ),
        (
            json!({"$defs": {"Base": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}},
                   "allOf": [{"$ref": "#/$defs/Base"}, {"properties": {"tag": {"const": "x"}}, "required": ["tag"]}]}),
            json!({"id": 0, "tag": "x"}),
        ),
        (
            json!({"definitions": {"N": {"type": "integer", "minimum": 4}}, "properties": {"n": {"$ref": "#/definitions/N"}}}),
            json!({"n": 4}),
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "maxProperties": 1}),
            json!({"a": 0}),
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "extra"]}),
            json!({"a": 0, "extra": "example"}),
        ),
        (
            json!({"type": "object", "minProperties": 2, "propertyNames": {"pattern": "^k"}, "additionalProperties": {"type": "boolean"}}),
            json!({"k": false, "k2": false}),
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(?=x)"}}}),
            json!({}),
        ),
        (json!({"oneOf": [{"type": "number"}, {"type": "integer"}]}), json!(0.5)),
        (
            json!({"oneOf": [{"type": "integer"}, {"type": "number", "multipleOf": 0.5}]}),
            json!(0.5),
        ),
        (
            json!({"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}], "properties": {"a": {"type": "integer"}}}),
            json!({"a": 0}),
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "if": {"required": ["a"]}, "then": {"required": ["b"]}}),
            json!({}),
        ),
    ];
    for (schema, expected) in table {
        let value = example_value(&schema).unwrap_or_else(|e| panic!("{schema}: {e}"));
        assert_valid(&schema, &value, &schema.to_string());
        assert_eq!(value, expected, "schema {schema}");
        for seed in 1..10 {
            match example_value_seeded(&schema, seed) {
                Ok(v) => assert_valid(&schema, &v, &format!("{schema} (seed {seed})")),
                Err(e) => panic!("{schema} (seed {seed}): {e}"),
            }
        }
    }
}

#[test]
fn errors_name_the_schema_location() {
    let deep = (0..300).fold(json!({"type": "integer"}), |inner, _| json!({"items": inner}));
    let table = [
        (json!(false), ExampleErrorKind::Unsatisfiable, ""),
        (json!({"enum": []}), ExampleErrorKind::Unsatisfiable, "/enum"),
        (json!(42), ExampleErrorKind::InvalidSchema, ""),
        (json!({"type": "strnig"}), ExampleErrorKind::InvalidSchema, "/type"),
        (
            json!({"$ref": "https://example.com/schema.json"}),
            ExampleErrorKind::Unsupported,
            "/$ref",
        ),
        (json!({"$ref": "#/$defs/Missing"}), ExampleErrorKind::InvalidSchema, ""),
        (
            json!({"properties": {"code": {"type": "string", "pattern": "(?=a)b"}}, "required": ["code"]}),
            ExampleErrorKind::Unsupported,
            "/properties/code/pattern",
        ),
        (
            json!({"type": "integer", "minimum": 5, "maximum": 4}),
            ExampleErrorKind::Unsatisfiable,
            "",
        ),
        (
            json!({"type": "string", "minLength": 5, "maxLength": 4}),
            ExampleErrorKind::Unsatisfiable,
            "/maxLength",
        ),
        (
            json!({"$defs": {"A": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "required": ["a"]}},
                   "$ref": "#/$defs/A"}),
            ExampleErrorKind::Recursion,
            "/$defs/A/properties/a/$ref",
        ),
        (
            json!({"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": true}),
            ExampleErrorKind::Unsatisfiable,
            "/items",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "not": {"required": ["a"]}}),
            ExampleErrorKind::Unsatisfiable,
            "/not",
        ),
        (deep, ExampleErrorKind::TooDeep, ""),
    ];
    for (schema, kind, pointer) in table {
        let short = llm_do_short(&schema);
        let err = match example_value(&schema) {
            Ok(v) => panic!("{short}: expected an error, got {v}"),
            Err(e) => e,
        };
        assert_eq!((err.kind(), err.pointer()), (kind, pointer), "{short}: {err}");
        assert!(err.to_string().contains(&format!("`#{pointer}`")), "{err}");
    }
}

fn llm_do_short(schema: &Value) -> String {
    let text = schema.to_string();
    text.chars().take(120).collect()
}

#[test]
fn deterministic_and_seeded() {
    let schema = schema_for::<types::Nested>();
    let a = example_value_seeded(&schema, 3).expect("generates");
    let b = example_value_seeded(&schema, 3).expect("generates");
    assert_eq!(a, b);
    let distinct: HashSet<String> = (0..10)
        .filter_map(|seed| example_value_seeded(&schema, seed).ok())
        .map(|v| v.to_string())
        .collect();
    assert!(distinct.len() > 5, "seeds barely vary: {distinct:?}");
}

#[test]
fn deep_schemas_do_not_overflow() {
    let nested = |depth: usize| {
        (0..depth).fold(
            json!({"type": "integer"}),
            |inner, _| json!({"type": "object", "properties": {"a": inner}, "required": ["a"]}),
        )
    };
    // Within the generator's depth: a value is produced.
    assert!(example_value(&nested(20)).is_ok());
    // Beyond it, or beyond the schema depth limit: a typed error, never a stack overflow.
    for depth in [70, 120, 200, 250, 260] {
        let err = example_value(&nested(depth)).expect_err("too deep");
        assert_eq!(err.kind(), ExampleErrorKind::TooDeep, "depth {depth}: {err}");
    }
    // Just inside the schema depth limit: compiled and walked without overflowing.
    let items = (0..250).fold(json!({"type": "integer"}), |inner, _| json!({"items": inner}));
    let value = example_value(&items).expect("generates");
    let text = value.to_string();
    assert!(text.starts_with("[[[[") && text.len() < 40, "optional items stop early: {text}");
    let items = (0..250)
        .fold(json!({"type": "integer"}), |inner, _| json!({"items": inner, "minItems": 1}));
    assert_eq!(example_value(&items).map_err(|e| e.kind()), Err(ExampleErrorKind::TooDeep));
    let chain = (0..100).fold(json!({"const": 1}), |inner, _| json!({"allOf": [inner]}));
    assert_eq!(example_value(&chain).map_err(|e| e.kind()), Err(ExampleErrorKind::Recursion));
}

/// Random schema-like documents: generation never panics, and whatever it returns is valid.
#[test]
fn random_schemas_give_valid_examples_or_errors() {
    struct Draw(fastrand::Rng);
    impl Draw {
        fn next(&mut self, n: u64) -> u64 {
            self.0.u64(..n)
        }
    }
    fn schema(rng: &mut Draw, depth: u32) -> Value {
        if depth > 3 || rng.next(6) == 0 {
            return [
                json!(true),
                json!(false),
                json!({}),
                json!({"type": "string"}),
                json!({"$ref": "#"}),
                json!({"$ref": "#/$defs/D"}),
            ][rng.next(6) as usize]
                .clone();
        }
        let mut map = serde_json::Map::new();
        for _ in 0..rng.next(4) + 1 {
            let (key, value) = match rng.next(24) {
                0 => (
                    "type",
                    json!(
                        ["string", "integer", "number", "object", "array", "boolean", "null"]
                            [rng.next(7) as usize]
                    ),
                ),
                1 => ("type", json!(["integer", "null"])),
                2 => ("minimum", json!(rng.next(20) as i64 - 10)),
                3 => ("maximum", json!(rng.next(20) as i64 - 10)),
                4 => ("exclusiveMinimum", json!(rng.next(10) as f64 / 4.0)),
                5 => ("multipleOf", json!([0.5, 3.0, 7.0, 0.1][rng.next(4) as usize])),
                6 => ("minLength", json!(rng.next(6))),
                7 => ("maxLength", json!(rng.next(6))),
                8 => (
                    "pattern",
                    json!(
                        ["^a+$", "\\d{2}", "^(x|y)z?$", "[A-F]{3,}", "(?=a)"][rng.next(5) as usize]
                    ),
                ),
                9 => (
                    "format",
                    json!(["date", "email", "uuid", "ipv4", "uri"][rng.next(5) as usize]),
                ),
                10 => ("enum", json!([1, "a", null])),
                11 => ("const", json!({"k": [1]})),
                12 => (
                    "properties",
                    json!({"a": schema(rng, depth + 1), "b": schema(rng, depth + 1)}),
                ),
                13 => ("required", json!(["a", "c"])),
                14 => ("additionalProperties", schema(rng, depth + 1)),
                15 => ("items", schema(rng, depth + 1)),
                16 => ("prefixItems", json!([schema(rng, depth + 1)])),
                17 => ("minItems", json!(rng.next(4))),
                18 => ("maxItems", json!(rng.next(3))),
                19 => ("uniqueItems", json!(true)),
                20 => ("anyOf", json!([schema(rng, depth + 1), schema(rng, depth + 1)])),
                21 => ("oneOf", json!([schema(rng, depth + 1), schema(rng, depth + 1)])),
                22 => ("allOf", json!([schema(rng, depth + 1), schema(rng, depth + 1)])),
                _ => ("not", schema(rng, depth + 1)),
            };
            map.insert(key.to_owned(), value);
        }
        Value::Object(map)
    }
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    let mut rng = Draw(fastrand::Rng::with_seed(seed));
    let (mut ok, mut errors) = (0, 0);
    // 200 random schemas keep this under a few seconds in CI's debug build; raise
    // EXAMPLE_FUZZ_CASES (and vary SEED) for a deeper local run.
    let cases: u64 =
        std::env::var("EXAMPLE_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    for i in 0..cases {
        let mut root = schema(&mut rng, 0);
        let defs = schema(&mut rng, 1);
        if let Value::Object(map) = &mut root {
            map.insert("$defs".to_owned(), json!({ "D": defs }));
        }
        let Ok(validator) = jsonschema::options().should_validate_formats(true).build(&root) else {
            continue;
        };
        match example_value_seeded(&root, i % 3) {
            Ok(value) => {
                ok += 1;
                assert!(validator.is_valid(&value), "{root} gave invalid {value}");
            }
            Err(_) => errors += 1,
        }
    }
    assert!(ok > errors, "{ok} examples, {errors} errors");
}

#[test]
fn tangled_definitions_stay_small_and_fast() {
    // Twelve definitions, each optionally referring to all the others: unfolding every optional
    // property would take 11! objects.
    let names: Vec<String> = (0..12).map(|i| format!("D{i}")).collect();
    let defs: serde_json::Map<String, Value> = names
        .iter()
        .map(|name| {
            let properties: serde_json::Map<String, Value> = names
                .iter()
                .filter(|other| *other != name)
                .map(|other| (other.to_lowercase(), json!({"$ref": format!("#/$defs/{other}")})))
                .chain([("id".to_owned(), json!({"type": "integer"}))])
                .collect();
            (name.clone(), json!({"type": "object", "properties": properties, "required": ["id"]}))
        })
        .collect();
    let schema = json!({"$defs": defs, "$ref": "#/$defs/D0"});
    // Unfolding them all would not finish; the example stays small instead.
    let value = example_value(&schema).expect("generates");
    assert_valid(&schema, &value, "tangled");
    assert!(value.to_string().len() < 200_000, "example stays bounded");

    // Several recursive branches next to sibling keywords.
    let schema = json!({
        "type": "object",
        "anyOf": [{"$ref": "#"}, {"$ref": "#"}, {"required": ["x"]}],
        "properties": {"x": {"type": "integer"}}
    });
    assert_eq!(example_value(&schema).ok(), Some(json!({"x": 0})));
}
