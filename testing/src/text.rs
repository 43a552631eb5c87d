//! What the test model reads from the last user message: quoted phrases, capitalised names, numbers, emails,
//! URLs and plain words.

/// Words that start sentences or questions and are never taken as names, even when capitalised.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "add",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "at",
    "be",
    "but",
    "by",
    "calculate",
    "can",
    "check",
    "compute",
    "could",
    "create",
    "delete",
    "did",
    "didn't",
    "don't",
    "doesn't",
    "can't",
    "won't",
    "let's",
    "it's",
    "i'll",
    "i've",
    "forget",
    "ask",
    "do",
    "does",
    "extract",
    "find",
    "for",
    "from",
    "get",
    "give",
    "hello",
    "hey",
    "hi",
    "how",
    "i",
    "i'd",
    "i'm",
    "if",
    "in",
    "is",
    "it",
    "let",
    "list",
    "look",
    "make",
    "me",
    "my",
    "no",
    "not",
    "note",
    "of",
    "ok",
    "okay",
    "on",
    "or",
    "please",
    "remember",
    "remove",
    "save",
    "search",
    "set",
    "show",
    "so",
    "summarise",
    "summarize",
    "tell",
    "thank",
    "thanks",
    "that",
    "the",
    "then",
    "there",
    "these",
    "this",
    "those",
    "to",
    "use",
    "we",
    "what",
    "what's",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "write",
    "yes",
    "you",
    "your",
];

/// Facts the test model takes from the last user message.
#[derive(Clone, Debug, Default)]
pub(crate) struct MessageFacts {
    /// The message text.
    pub text: String,
    /// Phrases in double, curly or single quotes, in order, distinct.
    pub quoted: Vec<String>,
    /// Runs of capitalised words outside quotes (`New York`), in order, distinct, without sentence-initial
    /// stopwords or words of the offered tools' names.
    pub capitalised: Vec<String>,
    /// Every number, in order (`-3`, `7`, `2.5`).
    pub numbers: Vec<f64>,
    /// Tokens that look like email addresses.
    pub emails: Vec<String>,
    /// Tokens starting with `http://` or `https://`.
    pub urls: Vec<String>,
    /// All words, lowercased.
    pub words: Vec<String>,
}

impl MessageFacts {
    /// Reads `text`, ignoring `skip` (lowercased words, e.g. from tool names) as sentence-initial names.
    pub fn new(text: &str, skip: &[String]) -> Self {
        let (quoted, outside) = split_quotes(text);
        MessageFacts {
            text: text.to_owned(),
            quoted: distinct(quoted),
            capitalised: distinct(capitalised(&outside, skip)),
            numbers: numbers(text),
            emails: tokens(text).filter(|t| looks_like_email(t)).map(str::to_owned).collect(),
            urls: tokens(text)
                .filter(|t| t.starts_with("http://") || t.starts_with("https://"))
                .map(str::to_owned)
                .collect(),
            words: words(text).map(str::to_lowercase).collect(),
        }
    }

    /// The values for "one call per value": the quoted phrases when there are any, else the capitalised names.
    pub fn candidates(&self) -> &[String] {
        if self.quoted.is_empty() { &self.capitalised } else { &self.quoted }
    }
}

fn distinct(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Whitespace-separated tokens with surrounding punctuation trimmed.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .map(|t| t.trim_matches(|c: char| matches!(c, '(' | ')' | '<' | '>' | ',' | ';' | '"' | '\'' | '!' | '?')))
        .map(|t| t.trim_end_matches('.'))
}

fn looks_like_email(token: &str) -> bool {
    token.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.ends_with('.'))
}

/// Words: runs of alphanumerics, with inner apostrophes and hyphens.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-' || c == '’'))
        .map(|w| w.trim_matches(|c: char| c == '\'' || c == '-' || c == '’'))
        .filter(|w| !w.is_empty())
}

/// Returns the quoted phrases and the text with them replaced by a sentence break.
fn split_quotes(text: &str) -> (Vec<String>, String) {
    let mut quoted = Vec::new();
    let mut outside = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let close = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            // A single quote opens a phrase only at a word start, so apostrophes (don't) are not quotes.
            '\'' if i == 0 || !chars[i - 1].is_alphanumeric() => Some('\''),
            _ => None,
        };
        if let Some(close) = close {
            let end = (i + 1..chars.len()).find(|&j| {
                chars[j] == close && (close != '\'' || chars.get(j + 1).is_none_or(|next| !next.is_alphanumeric()))
            });
            if let Some(end) = end {
                let phrase: String = chars[i + 1..end].iter().collect();
                quoted.push(phrase.trim().to_owned());
                outside.push_str(" . ");
                i = end + 1;
                continue;
            }
        }
        outside.push(c);
        i += 1;
    }
    (quoted, outside)
}

fn capitalised(text: &str, skip: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let mut sentence_start = true;
    let mut rest = text;
    loop {
        // Next word and the separator before it.
        let start = rest.find(|c: char| c.is_alphanumeric());
        let Some(start) = start else { break };
        let separator = &rest[..start];
        let after = &rest[start..];
        let len =
            after.find(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-' || c == '’')).unwrap_or(after.len());
        let word = after[..len].trim_end_matches(['\'', '-', '’']);
        // Possessives name the owner: "Bob's birthday" → "Bob".
        let word = word.strip_suffix("'s").or_else(|| word.strip_suffix("’s")).unwrap_or(word);
        rest = &after[len..];
        let breaks_run = !separator.chars().all(|c| c == ' ');
        let ends_sentence = separator.contains(['.', '!', '?', ':', '\n']);
        if breaks_run && !run.is_empty() {
            names.push(run.join(" "));
            run.clear();
        }
        if ends_sentence {
            sentence_start = true;
        }
        let lower = word.to_lowercase();
        let is_capital = word.chars().next().is_some_and(char::is_uppercase);
        let stop = STOPWORDS.contains(&lower.as_str()) || (sentence_start && skip.contains(&lower));
        if is_capital && !stop {
            run.push(word);
        } else if !run.is_empty() {
            names.push(run.join(" "));
            run.clear();
        }
        sentence_start = false;
    }
    if !run.is_empty() {
        names.push(run.join(" "));
    }
    names
}

pub(crate) fn numbers(text: &str) -> Vec<f64> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // A digit after a letter (`x2`) or a hyphenated word (`gpt-4o`) is part of a name, not a number.
        let joined = |at: usize| at > 0 && bytes[at - 1].is_ascii_alphanumeric();
        let starts_number = bytes[i].is_ascii_digit()
            && !joined(i)
            && !(i > 0 && matches!(bytes[i - 1], b'-' | b'.' | b'_') && joined(i - 1));
        if !starts_number {
            i += 1;
            continue;
        }
        let negative = i > 0 && bytes[i - 1] == b'-' && (i == 1 || !bytes[i - 2].is_ascii_alphanumeric());
        let start = if negative { i - 1 } else { i };
        let mut end = i;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
            end += 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        if let Ok(number) = text[start..end].parse::<f64>() {
            out.push(number);
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_skip_sentence_starters_and_tool_words() {
        let facts = MessageFacts::new("Weather in Paris and in Rome?", &["weather".to_owned()]);
        assert_eq!(facts.capitalised, ["Paris", "Rome"]);
        let facts = MessageFacts::new("What's the weather in New York? And in Los Angeles.", &[]);
        assert_eq!(facts.capitalised, ["New York", "Los Angeles"]);
    }

    #[test]
    fn quotes_and_apostrophes() {
        let facts = MessageFacts::new("Don't forget: add 'buy milk' and \"call Bob\" to my notes", &[]);
        assert_eq!(facts.quoted, ["buy milk", "call Bob"]);
        assert!(facts.capitalised.is_empty(), "{:?}", facts.capitalised);
    }

    #[test]
    fn numbers_in_order() {
        assert_eq!(MessageFacts::new("What is 7 divided by 0?", &[]).numbers, [7.0, 0.0]);
        assert_eq!(MessageFacts::new("from -3 to 2.5, gpt-4o x2", &[]).numbers, [-3.0, 2.5]);
    }

    #[test]
    fn emails_and_urls() {
        let facts = MessageFacts::new("Mail alice@example.com about https://example.org/x.", &[]);
        assert_eq!(facts.emails, ["alice@example.com"]);
        assert_eq!(facts.urls, ["https://example.org/x"]);
    }
}
