//! Provider-safe tool names (Q21): every name offered to the model matches `^[a-zA-Z0-9_-]{1,64}$`, whatever
//! the MCP server calls its tools, and names stay unique after mapping.

use std::collections::HashSet;

use toolsmith_core::tool::is_valid_tool_name;

const MAX_LEN: usize = 64;
/// `_` and 8 hex digits of the original name's hash, appended when a name had to be cut or collided.
const SUFFIX_LEN: usize = 9;

/// Gives each server tool a wire name: `prefix_name` when that is valid and free, otherwise the name with every
/// invalid character replaced by `_`, cut to fit, and a hash of the original name appended when it was cut or
/// collided. The same server names always give the same wire names.
pub(crate) struct NameMapper<'a> {
    prefix: Option<&'a str>,
    taken: HashSet<String>,
}

impl<'a> NameMapper<'a> {
    pub(crate) fn new(prefix: Option<&'a str>) -> Self {
        NameMapper { prefix, taken: HashSet::new() }
    }

    /// The wire name for the server's tool `name`.
    pub(crate) fn map(&mut self, name: &str) -> String {
        let joined = match self.prefix {
            Some(prefix) => format!("{prefix}_{name}"),
            None => name.to_owned(),
        };
        let wire = if is_valid_tool_name(&joined) && !self.taken.contains(&joined) {
            joined
        } else {
            let clean: String = joined
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
                .collect();
            if !clean.is_empty() && clean.len() <= MAX_LEN && !self.taken.contains(&clean) {
                clean
            } else {
                let mut cut = clean;
                cut.truncate(MAX_LEN - SUFFIX_LEN);
                let mut salt = 0u32;
                loop {
                    let candidate = format!("{cut}_{:08x}", fnv1a(name, salt));
                    if !self.taken.contains(&candidate) {
                        break candidate;
                    }
                    salt += 1;
                }
            }
        };
        self.taken.insert(wire.clone());
        wire
    }
}

/// Whether `prefix` can start tool names: valid itself, leaving room for a name.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    // Room for `_` and at least one character of the name.
    is_valid_tool_name(prefix) && prefix.len() < MAX_LEN - SUFFIX_LEN
}

fn fnv1a(text: &str, salt: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5 ^ salt;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_pass_through_with_the_prefix() {
        let mut names = NameMapper::new(Some("fs"));
        assert_eq!(names.map("read_file"), "fs_read_file");
        let mut plain = NameMapper::new(None);
        assert_eq!(plain.map("get-sum"), "get-sum");
    }

    #[test]
    fn invalid_characters_become_underscores() {
        let mut names = NameMapper::new(None);
        assert_eq!(names.map("weather.get"), "weather_get");
        assert_eq!(names.map("files/read file"), "files_read_file");
    }

    #[test]
    fn collisions_and_long_names_get_a_hash_and_stay_valid_and_unique() {
        let mut names = NameMapper::new(None);
        let first = names.map("a.b");
        let second = names.map("a:b");
        assert_eq!(first, "a_b");
        assert_ne!(first, second);
        assert!(is_valid_tool_name(&second), "{second}");
        let long = "x".repeat(100);
        let mapped = names.map(&long);
        assert!(is_valid_tool_name(&mapped) && mapped.len() == 64, "{mapped}");
        assert!(is_valid_tool_name(&names.map("")), "an empty name still gets a valid one");
        let again = NameMapper::new(None).map(&long);
        assert_eq!(mapped, again, "mapping is deterministic");
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(valid_prefix("github"));
        assert!(!valid_prefix("git hub"));
        assert!(!valid_prefix(""));
        assert!(!valid_prefix(&"p".repeat(60)));
    }
}
