//! Compile-error tests for `#[tool]` and `#[toolbox]`: each case in `tests/ui/` with the exact diagnostics in
//! its `.stderr` (regenerate with `TRYBUILD=overwrite cargo test --test ui`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
