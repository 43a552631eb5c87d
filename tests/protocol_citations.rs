//! Every protocol number the code cites (`Q13`, `L9`, `§1.4`, `§1.4 form 2`, `rule 3 of §1.3`, `§2 C`) must
//! resolve in `docs/protocol.md`, so a reader can look up why a line is there.
//!
//! The scan covers every `.rs` file of the repository (new crates included, build output and dependencies
//! excluded) plus the top-level Markdown files. A `§` that follows the name of another document on the same
//! line (`RFC 9110 §15.5`, `MCP spec §...`) is that document's, not ours, and is not checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// What `docs/protocol.md` defines.
#[derive(Default)]
struct Defined {
    /// `Q1`, `L20`.
    numbers: BTreeSet<String>,
    /// `1`, `1.3`, `1.1.1`.
    sections: BTreeSet<String>,
    /// `2 A` .. `2 G`.
    groups: BTreeSet<String>,
    /// `(section, "form" | "rule", n)`: the numbered items of a section.
    items: BTreeSet<(String, &'static str, u32)>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn defined(doc: &str) -> Defined {
    let numbered = Regex::new(r"^#{2,6} ([QL]\d+)\.").unwrap();
    let section = Regex::new(r"^#{2,6} §(\d+(?:\.\d+)*)[ .]").unwrap();
    let group = Regex::new(r"^#{2,6} §(\d+) ([A-Z])\.").unwrap();
    let item = Regex::new(r"\*\*(Form|Rule) (\d+)\b").unwrap();
    let mut defined = Defined::default();
    let mut current = String::new();
    for line in doc.lines() {
        if let Some(c) = numbered.captures(line) {
            assert!(defined.numbers.insert(c[1].to_owned()), "{} is defined twice in docs/protocol.md", &c[1]);
        }
        if let Some(c) = group.captures(line) {
            defined.groups.insert(format!("{} {}", &c[1], &c[2]));
        } else if let Some(c) = section.captures(line) {
            current = c[1].to_owned();
            defined.sections.insert(current.clone());
        }
        for c in item.captures_iter(line) {
            let kind = if &c[1] == "Form" { "form" } else { "rule" };
            defined.items.insert((current.clone(), kind, c[2].parse().unwrap()));
        }
    }
    defined
}

/// Every `.rs` file under `dir`, skipping build output, dependencies and hidden folders.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// A number list such as `2`, `1 and 2`, `2–5`, `1, 2 and 4`.
fn numbers(list: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in list.split([',', ' ']).filter(|p| !p.is_empty() && *p != "and") {
        match part.split_once(['–', '-']) {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<u32>().ok()),
        }
    }
    out
}

/// The citation patterns, compiled once.
struct Patterns {
    number: Regex,
    range: Regex,
    section: Regex,
    group: Regex,
    form_after: Regex,
    rule_before: Regex,
    foreign: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| Patterns {
    number: Regex::new(r"\b([QL])(\d{1,3})\b").unwrap(),
    range: Regex::new(r"\b([QL])(\d{1,3}) ?[–-] ?([QL])?(\d{1,3})\b").unwrap(),
    section: Regex::new(r"§ ?(\d+(?:\.\d+)*)").unwrap(),
    group: Regex::new(r"§ ?(\d+) ([A-Z])\b((?:(?:,| and| or) [A-Z]\b)*)").unwrap(),
    form_after: Regex::new(r"§ ?(\d+(?:\.\d+)*),? (form|rule)s? (\d+(?:(?:, | and |–|-)\d+)*)").unwrap(),
    rule_before: Regex::new(
        r"\b(form|rule)s? (\d+(?:(?:, | and |–|-)\d+)*) of (?:the reference's )?§ ?(\d+(?:\.\d+)*)",
    )
    .unwrap(),
    // Another document named shortly before a `§` owns it.
    foreign: Regex::new(
        r"(?i)\b(rfc ?\d+|mcp|spec(ification)?|whatwg|html|opentelemetry|otel|semconv|restate|json schema)\b.{0,60}$",
    )
    .unwrap(),
});

/// The citations on one line that do not resolve, as messages.
fn unresolved(line: &str, defined: &Defined) -> Vec<String> {
    let Patterns { number, range, section, group, form_after, rule_before, foreign } = &*PATTERNS;
    let mut missing = Vec::new();
    let mut cited = BTreeSet::new();
    for c in number.captures_iter(line) {
        cited.insert(format!("{}{}", &c[1], c[2].parse::<u32>().unwrap()));
    }
    for c in range.captures_iter(line) {
        if c.get(3).is_some_and(|m| m.as_str() != &c[1]) {
            continue;
        }
        let (a, b): (u32, u32) = (c[2].parse().unwrap(), c[4].parse().unwrap());
        if a < b && b - a <= 50 {
            cited.extend((a..=b).map(|n| format!("{}{n}", &c[1])));
        }
    }
    missing.extend(cited.into_iter().filter(|n| !defined.numbers.contains(n)));

    let ours = |start: usize| !foreign.is_match(&line[..start]);
    for c in section.captures_iter(line) {
        if ours(c.get(0).unwrap().start()) && !defined.sections.contains(&c[1]) {
            missing.push(format!("§{}", &c[1]));
        }
    }
    for c in group.captures_iter(line) {
        if !ours(c.get(0).unwrap().start()) {
            continue;
        }
        let letters =
            std::iter::once(c[2].to_owned()).chain(c[3].split([',', ' ']).filter(|w| w.len() == 1).map(str::to_owned));
        for letter in letters {
            let key = format!("{} {letter}", &c[1]);
            if !defined.groups.contains(&key) {
                missing.push(format!("§{key}"));
            }
        }
    }
    let mut check_items = |section: &str, kind: &str, list: &str| {
        for n in numbers(list) {
            let kind = if kind == "form" { "form" } else { "rule" };
            if !defined.items.contains(&(section.to_owned(), kind, n)) {
                missing.push(format!("{kind} {n} of §{section}"));
            }
        }
    };
    for c in form_after.captures_iter(line) {
        if ours(c.get(0).unwrap().start()) {
            check_items(&c[1], &c[2], &c[3]);
        }
    }
    for c in rule_before.captures_iter(line) {
        if ours(c.get(0).unwrap().start()) {
            check_items(&c[3], &c[1], &c[2]);
        }
    }
    missing
}

#[test]
fn every_cited_protocol_number_resolves_in_docs_protocol_md() {
    let doc = std::fs::read_to_string(root().join("docs/protocol.md")).expect("docs/protocol.md exists");
    let defined = defined(&doc);
    // The document itself must define what the code relies on, or the scan below proves nothing.
    assert_eq!(defined.numbers.iter().filter(|n| n.starts_with('Q')).count(), 45, "Q1–Q45 in docs/protocol.md");
    assert_eq!(defined.numbers.iter().filter(|n| n.starts_with('L')).count(), 20, "L1–L20 in docs/protocol.md");

    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    // This file's own examples cite missing numbers on purpose.
    files.retain(|file| !file.ends_with("tests/protocol_citations.rs"));
    files.extend(["README.md", "ARCHITECTURE.md"].map(|name| root().join(name)).into_iter().filter(|p| p.exists()));
    files.sort();
    assert!(files.len() > 50, "the scan found only {} files: is the root right?", files.len());

    let mut failures = Vec::new();
    let mut citations = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for (i, line) in text.lines().enumerate() {
            citations += usize::from(line.contains('§') || PATTERNS.number.is_match(line));
            for missing in unresolved(line, &defined) {
                let relative = file.strip_prefix(root()).unwrap_or(file);
                failures.push(format!(
                    "{}:{}: {missing} is not defined in docs/protocol.md",
                    relative.display(),
                    i + 1
                ));
            }
        }
    }
    assert!(citations > 100, "only {citations} citing lines found: the scan is broken");
    assert!(failures.is_empty(), "unresolved protocol citations:\n{}", failures.join("\n"));
}

#[test]
fn the_scanner_catches_what_it_should() {
    let doc = "### §1.3 Streaming\n- **Rule 1 — x.**\n### §1.4 Errors\n- **Form 2 — x.**\n## §2 Quirks\n\
               ### §2 C. Shapes\n#### Q3. x\n#### Q4. x\n#### L9. x\n";
    let defined = defined(doc);
    let check = |line: &str| unresolved(line, &defined);
    assert!(check("// Q3, Q4 and L9 (§1.4 form 2, rule 1 of §1.3, §2 C)").is_empty());
    assert_eq!(check("// Q5: x"), ["Q5"]);
    assert_eq!(check("// Q3–Q5"), ["Q5"]);
    assert_eq!(check("// L21"), ["L21"]);
    assert_eq!(check("// §1.5"), ["§1.5"]);
    assert_eq!(check("// §2 C and E"), ["§2 E"]);
    assert_eq!(check("// §1.4 forms 2 and 3"), ["form 3 of §1.4"]);
    assert_eq!(check("// rules 1–2 of §1.3"), ["rule 2 of §1.3"]);
    // Another document's sections are not ours.
    assert!(check("// RFC 9110 §15.5.4 says so").is_empty());
    assert!(check("/// the MCP spec (2025-11-25) §Lifecycle §4.2").is_empty());
}
