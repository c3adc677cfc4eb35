//! Compile-time behavior of `#[worker]` and `#[tool]`: what must compile, and the errors (with
//! their spans) for what must not. Regenerate the expected errors with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
