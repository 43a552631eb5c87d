//! A crate that renames the dependency (`ts = { package = "toolsmith" }`) and lists neither serde nor
//! schemars compiles and runs its tools: the macros resolve the runtime path with `proc-macro-crate`.
//!
//! Builds `tests/fixtures/renamed` with cargo, offline, into trybuild's target directory under `target/`, so
//! the dependencies compiled for the compile-error tests are reused.

use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    // This test binary lives in `<target>/debug/deps/`.
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.ancestors().nth(3).map(Path::to_path_buf).expect("the test binary is under a target directory")
}

#[test]
fn renamed_dependency_compiles_and_runs() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/renamed/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_dir().join("tests/trybuild"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the renamed fixture failed:\n{stderr}\n{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"type":"function","function":{"name":"get_weather","description":"Get the weather for a city.","parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city."},"days":{"type":["integer","null"],"description":"How many days ahead.","minimum":0,"maximum":255}},"required":["city"]}}}"#,
            r#"{"type":"function","function":{"name":"add","description":"Add two numbers.","parameters":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false},"strict":true}}"#,
            r#"{"type":"function","function":{"name":"add_note","description":"Save a note.","parameters":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}}"#,
            "Paris in 2 days for call_1",
            "5",
            "1",
            "42",
            "Oslo in 0 days for call_1",
        ]
    );
}
