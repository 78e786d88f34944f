//! Fitting text into a channel's limits. A message that is too long is shortened with a
//! pointer to the full text, or split; it never fails to send because of its length.

/// What is appended to shortened text.
pub const ELLIPSIS: char = '…';

/// `text` cut to at most `max` characters. When cut, it ends with `…` and, if given,
/// ` full text: <link>`, both inside the limit (the link itself is dropped if it alone does
/// not fit).
pub fn shorten(text: &str, max: usize, link: Option<&str>) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let suffix = match link {
        Some(link) if link.chars().count() + 13 < max => format!("{ELLIPSIS} full text: {link}"),
        _ => ELLIPSIS.to_string(),
    };
    let keep = max.saturating_sub(suffix.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(&suffix);
    out
}

/// `text` cut to at most `max` bytes of UTF-8, on a character boundary.
pub fn within_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` split into parts of at most `max` characters, at line breaks where possible.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let mut line = line;
        loop {
            let len = line.chars().count();
            if current_len + len <= max {
                current.push_str(line);
                current_len += len;
                break;
            }
            if current_len > 0 {
                parts.push(std::mem::take(&mut current));
                current_len = 0;
                continue;
            }
            let cut = line.char_indices().nth(max).map_or(line.len(), |(i, _)| i);
            parts.push(line[..cut].to_owned());
            line = &line[cut..];
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_left_alone() {
        assert_eq!(shorten("hello", 5, Some("https://x")), "hello");
    }

    #[test]
    fn long_text_is_cut_within_the_limit_with_the_link() {
        let text = "é".repeat(100);
        let out = shorten(&text, 40, Some("https://bot/i/1"));
        assert_eq!(out.chars().count(), 40);
        assert!(out.ends_with("… full text: https://bot/i/1"), "{out}");
    }

    #[test]
    fn a_link_too_long_for_the_limit_is_dropped() {
        let out = shorten(&"x".repeat(30), 20, Some(&"l".repeat(30)));
        assert_eq!(out, format!("{}…", "x".repeat(19)));
    }

    #[test]
    fn byte_limits_cut_on_a_character_boundary() {
        assert_eq!(within_bytes("aé", 2), "a");
        assert_eq!(within_bytes("abc", 5), "abc");
    }

    #[test]
    fn split_keeps_lines_whole_where_they_fit_and_every_part_within_the_limit() {
        let text = "one\ntwo\nthree four five six\n";
        let parts = split(text, 10);
        assert!(parts.iter().all(|p| p.chars().count() <= 10), "{parts:?}");
        assert_eq!(parts.concat(), text);
        assert_eq!(parts[0], "one\ntwo\n");
    }
}
