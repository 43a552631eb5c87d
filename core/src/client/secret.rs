//! What counts as a secret in a client's configuration, and how it is shown: one place, used by every
//! `Debug`, error message and log line that could print configuration.

use std::fmt;

/// Shown instead of a secret value.
pub(crate) const REDACTED: &str = "<redacted>";

/// Whether a header with this name carries a credential: `authorization`, `proxy-authorization`, `cookie`,
/// `api-key` (Azure), `x-api-key` (Anthropic), and anything ending in `-key`, `-token`, `-secret` or
/// `-signature` (`x-goog-api-key`, `x-auth-token`...).
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "api-key" | "key")
        || ["-key", "_key", "-token", "_token", "-secret", "-signature", "-auth", "-password"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
        || name.contains("secret")
        || name.contains("password")
}

/// A URL as it may be printed: the user-info (`user:pass@`) and the query (`?key=...`, Gemini-style keys)
/// replaced by [`REDACTED`]. Works on text that does not parse as a URL too.
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(at) => format!("{REDACTED}@{}", &authority[at + 1..]),
        None => authority.to_owned(),
    };
    let path = match path.find('?') {
        Some(at) => {
            let fragment = path[at..].find('#').map_or("", |f| &path[at + f..]);
            format!("{}?{REDACTED}{fragment}", &path[..at])
        }
        None => path.to_owned(),
    };
    format!("{scheme}{host}{path}")
}

/// A configured header as `Debug` prints it: sensitive values replaced.
pub(crate) struct ShownHeader<'a>(pub &'a str, pub &'a str);

impl fmt::Debug for ShownHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_sensitive_header(self.0) {
            write!(f, "({:?}, {REDACTED})", self.0)
        } else {
            write!(f, "({:?}, {:?})", self.0, self.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_sensitive() {
        for name in ["Authorization", "api-key", "X-Api-Key", "x-goog-api-key", "X-Auth-Token", "Cookie", "x-secret"] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in ["x-title", "HTTP-Referer", "openai-organization", "content-type"] {
            assert!(!is_sensitive_header(name), "{name}");
        }
    }

    #[test]
    fn urls_lose_user_info_and_query() {
        assert_eq!(redact_url("http://user:pass@host:8080/v1"), "http://<redacted>@host:8080/v1");
        assert_eq!(redact_url("https://h/v1?key=abc#x"), "https://h/v1?<redacted>#x");
        assert_eq!(redact_url("https://api.openai.com/v1"), "https://api.openai.com/v1");
        assert_eq!(redact_url("a:b@c"), "<redacted>@c");
    }
}
