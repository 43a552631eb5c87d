//! Reading a tool's description and its parameters' descriptions from doc comments.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// One line of documentation and the span of the `///` comment it came from.
struct Line {
    text: String,
    span: Span,
}

/// An entry of the `# Arguments` list.
pub(crate) struct ArgumentDoc {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) span: Span,
}

pub(crate) struct Docs {
    /// The doc comment up to its `# Arguments` section, trimmed.
    pub(crate) description: String,
    pub(crate) arguments: Vec<ArgumentDoc>,
}

/// The text of the `#[doc = "..."]` attributes in `attrs`, one entry per line.
fn lines(attrs: &[Attribute]) -> Vec<Line> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("doc")) {
        if let Meta::NameValue(pair) = &attr.meta
            && let Expr::Lit(ExprLit { lit: Lit::Str(text), .. }) = &pair.value
        {
            for line in text.value().split('\n') {
                let line = line.strip_prefix(' ').unwrap_or(line).trim_end();
                out.push(Line { text: line.to_owned(), span: attr.span() });
            }
        }
    }
    out
}

/// The doc text of a parameter (`/// text` written on it), if any.
pub(crate) fn parameter_doc(attrs: &[Attribute]) -> Option<String> {
    let text = join(&lines(attrs));
    (!text.is_empty()).then_some(text)
}

fn join(lines: &[Line]) -> String {
    lines.iter().map(|line| line.text.as_str()).collect::<Vec<_>>().join("\n").trim().to_owned()
}

fn is_arguments_heading(line: &str) -> bool {
    let Some(title) = line.trim().strip_prefix('#') else { return false };
    let title = title.trim_start_matches('#').trim().trim_end_matches(':');
    ["arguments", "args", "parameters", "params"].iter().any(|word| title.eq_ignore_ascii_case(word))
}

fn is_heading(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('#') && !line.starts_with("#[")
}

/// Splits `* `name` - text`, `* name: text`, `- name - text` into name and text.
fn list_item(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix(['*', '-', '+'])?;
    let rest = rest.strip_prefix(' ')?.trim_start();
    let (name, rest) = if let Some(quoted) = rest.strip_prefix('`') {
        let end = quoted.find('`')?;
        (&quoted[..end], &quoted[end + 1..])
    } else {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        (&rest[..end], &rest[end..])
    };
    let name = name.trim().strip_prefix("r#").unwrap_or(name.trim());
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let rest = rest.trim_start();
    let text = ["-", ":", "—", "–"].iter().find_map(|sep| rest.strip_prefix(sep)).unwrap_or(rest);
    Some((name.to_owned(), text.trim().to_owned()))
}

pub(crate) fn parse(attrs: &[Attribute]) -> Docs {
    let lines = lines(attrs);
    let Some(heading) = lines.iter().position(|line| is_arguments_heading(&line.text)) else {
        return Docs { description: join(&lines), arguments: Vec::new() };
    };
    let description = join(&lines[..heading]);
    let mut arguments: Vec<ArgumentDoc> = Vec::new();
    for line in &lines[heading + 1..] {
        if is_heading(&line.text) {
            break;
        }
        if let Some((name, text)) = list_item(&line.text) {
            arguments.push(ArgumentDoc { name, text, span: line.span });
        } else if let Some(last) = arguments.last_mut()
            && !line.text.trim().is_empty()
        {
            // A continuation line of the previous entry.
            if !last.text.is_empty() {
                last.text.push(' ');
            }
            last.text.push_str(line.text.trim());
        }
    }
    Docs { description, arguments }
}

#[cfg(test)]
mod tests {
    use super::list_item;

    #[test]
    fn argument_list_forms() {
        let item = |line: &str| list_item(line).map(|(name, text)| format!("{name}|{text}"));
        assert_eq!(item("* `city` - City name."), Some("city|City name.".into()));
        assert_eq!(item("* city: City name."), Some("city|City name.".into()));
        assert_eq!(item("- city - City name."), Some("city|City name.".into()));
        assert_eq!(item("* `r#type` — The kind."), Some("type|The kind.".into()));
        assert_eq!(item("  * `days`"), Some("days|".into()));
        assert_eq!(item("plain text"), None);
        assert_eq!(item("* `two words` - no"), None);
    }
}
