//! The runtime's steps import only downwards: wire → client → stream (completion) → tool → agent
//! (ARCHITECTURE.md). A `crate::X` path in a step's folder may name only itself or a step below it, so a
//! reader can learn the crate bottom-up and a change to a higher step never reaches into a lower one.
//!
//! Checked on the source text: every `crate::<step>` path in `core/src/<step>/**.rs` (imports, paths in
//! code and in doc links alike, comments excepted).

use std::path::{Path, PathBuf};

/// The steps, lowest first.
const STEPS: [&str; 5] = ["wire", "client", "stream", "tool", "agent"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The steps a line names through `crate::<step>` (a `//` comment's words are not paths, doc links are).
fn named_steps(line: &str) -> Vec<&'static str> {
    let trimmed = line.trim_start();
    let code =
        if trimmed.starts_with("//") && !trimmed.starts_with("///") && !trimmed.starts_with("//!") { "" } else { line };
    STEPS
        .iter()
        .copied()
        .filter(|step| {
            code.match_indices(&format!("crate::{step}")).any(|(at, m)| {
                let before = code[..at].chars().next_back();
                let after = code[at + m.len()..].chars().next();
                // `toolsmith_core::wire` is not `crate::wire`; `crate::wirething` is not `crate::wire`.
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .collect()
}

#[test]
fn steps_import_only_downwards() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("core/src");
    let mut violations = Vec::new();
    for (level, step) in STEPS.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&src.join(step), &mut files);
        assert!(!files.is_empty(), "core/src/{step} has no Rust files: update STEPS");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                for named in named_steps(line) {
                    let named_level = STEPS.iter().position(|s| *s == named).unwrap();
                    if named_level > level {
                        let shown = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&file).display();
                        violations.push(format!("{shown}:{}: {step} names crate::{named}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "imports pointing up:\n{}", violations.join("\n"));
}

#[test]
fn the_check_sees_a_path_pointing_up() {
    assert_eq!(named_steps("use crate::tool::ToolDefinition;"), ["tool"]);
    assert_eq!(named_steps("/// see [`X`](crate::agent::Agent)"), ["agent"]);
    assert!(named_steps("// crate::agent in a comment").is_empty());
    assert!(named_steps("use toolsmith_core::wire::Message;").is_empty());
}
