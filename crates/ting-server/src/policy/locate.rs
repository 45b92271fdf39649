//! Where in a policy document a problem is: the line of a TOML syntax or type error (from the
//! parser's span) or of the key a validation message names.

/// The 1-based line holding byte `offset` of `text`.
pub fn line_of_offset(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The 1-based line that sets `path` (`policy_version`, `features.recording`,
/// `retention.room.max_secs` …): the key in its `[section]` header's table, or a dotted key.
pub fn line_of_key(text: &str, path: &str) -> Option<u32> {
    let (section, key) = match path.rsplit_once('.') {
        Some((s, k)) => (s, k),
        None => ("", path),
    };
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = header.trim().to_owned();
            continue;
        }
        let Some((k, _)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        let full = if current.is_empty() {
            k.to_owned()
        } else {
            format!("{current}.{k}")
        };
        if (current == section && k == key) || full == path {
            return u32::try_from(i + 1).ok();
        }
    }
    // A section that is named but has no such key: point at its header.
    if !section.is_empty() {
        let header = format!("[{section}]");
        return text
            .lines()
            .position(|l| l.trim() == header)
            .and_then(|i| u32::try_from(i + 1).ok());
    }
    None
}

/// The line a validation message concerns: messages start with the key they are about
/// (`features.recording cannot be turned on: …`, `mls.allowed_ciphersuites: …`).
pub fn line_of_message(text: &str, message: &str) -> Option<u32> {
    let first = message.split_whitespace().next()?.trim_end_matches(':');
    if first.is_empty()
        || !first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return None;
    }
    line_of_key(text, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "policy_version = 1\n\n[features]\nfile_sharing = true\nrecording = true\n\n[retention.room]\nmax_secs = 5\n";

    #[test]
    fn keys_are_found_in_their_sections() {
        assert_eq!(line_of_key(DOC, "policy_version"), Some(1));
        assert_eq!(line_of_key(DOC, "features.recording"), Some(5));
        assert_eq!(line_of_key(DOC, "retention.room.max_secs"), Some(8));
        assert_eq!(
            line_of_key(DOC, "features.meetings"),
            Some(3),
            "the section header"
        );
        assert_eq!(line_of_key(DOC, "mls.allowed_ciphersuites"), None);
        assert_eq!(
            line_of_key("features.recording = true\n", "features.recording"),
            Some(1)
        );
    }

    #[test]
    fn messages_name_their_key_first() {
        assert_eq!(
            line_of_message(DOC, "features.recording cannot be turned on: no"),
            Some(5)
        );
        assert_eq!(
            line_of_message(DOC, "retention.room.max_secs: too short"),
            Some(8)
        );
        assert_eq!(line_of_message(DOC, "not a valid TOML file"), None);
    }

    #[test]
    fn offsets_become_lines() {
        assert_eq!(line_of_offset(DOC, 0), 1);
        assert_eq!(line_of_offset(DOC, DOC.find("recording").unwrap()), 5);
        assert_eq!(line_of_offset(DOC, usize::MAX), 9);
    }
}
