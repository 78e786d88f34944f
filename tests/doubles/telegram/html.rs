//! Telegram's HTML parse mode, as strictly as the Bot API applies it
//! (https://core.telegram.org/bots/api#html-style): only the listed tags, properly nested; every
//! `<`, `>` and `&` that is not part of a tag or entity must be escaped; entities are the four
//! named ones and numeric ones.

/// Tags Telegram accepts.
const TAGS: [&str; 15] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
];

/// The text a user sees, or why Telegram would answer "can't parse entities".
pub fn visible_text(html: &str) -> Result<String, String> {
    let mut shown = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("unclosed start tag")?;
                tag(&rest[1..end], &mut open)?;
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest.find(';').ok_or("unsupported start tag or entity")?;
                shown.push(entity(&rest[1..end])?);
                rest = &rest[end + 1..];
            }
            '>' => return Err("unescaped '>'".to_owned()),
            c => {
                shown.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    match open.pop() {
        Some(tag) => Err(format!(
            "can't find end tag corresponding to start tag {tag}"
        )),
        None => Ok(shown),
    }
}

fn tag(inside: &str, open: &mut Vec<String>) -> Result<(), String> {
    if let Some(name) = inside.strip_prefix('/') {
        return match open.pop() {
            Some(top) if top == name.trim() => Ok(()),
            _ => Err(format!("unmatched end tag {name}")),
        };
    }
    let name = inside.split_whitespace().next().unwrap_or_default();
    if name == "blockquote" || TAGS.contains(&name) {
        open.push(name.to_owned());
        Ok(())
    } else {
        Err(format!("unsupported start tag \"{name}\""))
    }
}

fn entity(name: &str) -> Result<char, String> {
    let numeric = |digits: &str, radix| u32::from_str_radix(digits, radix).ok();
    let code = match name {
        "lt" => Some('<' as u32),
        "gt" => Some('>' as u32),
        "amp" => Some('&' as u32),
        "quot" => Some('"' as u32),
        _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            Some(hex) => numeric(hex, 16),
            None => name.strip_prefix('#').and_then(|d| numeric(d, 10)),
        },
    };
    code.and_then(char::from_u32)
        .ok_or_else(|| format!("unsupported entity &{name};"))
}
