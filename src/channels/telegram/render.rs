//! Prompts, alerts and outcomes as Telegram HTML within the Bot API limits, and the inline
//! keyboard that carries the decision tokens.
//!
//! Limits (<https://core.telegram.org/bots/api#sendmessage>, #inlinekeyboardbutton): message text
//! is 1-4096 characters after entity parsing; `callback_data` is 1-64 bytes. Telegram measures
//! text in UTF-16 code units (entity offsets are UTF-16), so lengths here are counted that way,
//! which is never less than the number of characters.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::channels::fit;
use crate::channels::message::{Choice, Notice, Prompt};

/// Most characters in one message after entity parsing.
pub const MAX_TEXT: usize = 4096;
/// Most bytes of a button's `callback_data`.
pub const MAX_CALLBACK_DATA: usize = 64;
/// The title is cut to this before the fields share the rest.
const MAX_TITLE: usize = 300;
/// An outcome line is cut to this, so the prompt keeps most of the room.
const MAX_OUTCOME: usize = 1000;

/// Prefixes of `callback_data`: which button, then the token unchanged.
const APPROVE_PREFIX: &str = "a:";
const REJECT_PREFIX: &str = "r:";

/// Length as Telegram counts it.
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text` with `<`, `>` and `&` replaced by entities, as Telegram's HTML mode requires
/// (<https://core.telegram.org/bots/api#html-style>). Escaping does not change the length after
/// entity parsing.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to at most `max` UTF-16 units, ending with `…` and the link when cut.
pub fn shorten_units(text: &str, max: usize, link: Option<&str>) -> String {
    let surplus = |s: &str| units(s) - s.chars().count();
    let extra = surplus(text) + link.map_or(0, surplus);
    fit::shorten(text, max.saturating_sub(extra).max(1), link)
}

/// `text` split into parts of at most [`MAX_TEXT`] UTF-16 units each.
pub fn split_units(text: &str) -> Vec<String> {
    let extra = units(text) - text.chars().count();
    fit::split(text, MAX_TEXT.saturating_sub(extra).max(1))
}

/// HTML with its length after entity parsing.
#[derive(Debug, Default)]
struct Html {
    html: String,
    visible: usize,
}

impl Html {
    fn text(&mut self, text: &str) {
        self.html.push_str(&escape(text));
        self.visible += units(text);
    }

    fn bold(&mut self, text: &str) {
        self.html.push_str("<b>");
        self.text(text);
        self.html.push_str("</b>");
    }
}

/// The prompt as HTML of at most [`MAX_TEXT`] characters after parsing: the bold title, the
/// incident line, one `Label: value` line per field, and `outcome` (bold) at the end when the
/// prompt is closed. When it does not fit, the longest field values are shortened first (every
/// field keeps at least its start) and the details link is added.
pub fn prompt_html(prompt: &Prompt, outcome: Option<&str>) -> String {
    let title = shorten_units(&prompt.title, MAX_TITLE, None);
    let incident = format!("Incident {} · {:?}", prompt.incident, prompt.severity);
    let outcome = outcome
        .filter(|o| !o.trim().is_empty())
        .map(|o| shorten_units(o, MAX_OUTCOME, None));
    let fields = prompt.fields();
    let link = prompt
        .details_url
        .as_deref()
        .map(|url| format!("\nFull text: {url}"));
    let fixed = units(&title)
        + 1
        + units(&incident)
        + fields
            .iter()
            .map(|(label, _)| units(label) + 3)
            .sum::<usize>()
        + outcome.as_ref().map_or(0, |o| units(o) + 2)
        + link.as_ref().map_or(0, |l| units(l));
    let values: Vec<&str> = fields.iter().map(|(_, v)| v.as_str()).collect();
    let fitted = fit_values(&values, MAX_TEXT.saturating_sub(fixed));
    let mut html = Html::default();
    html.bold(&title);
    html.text(&format!("\n{incident}"));
    for ((label, _), value) in fields.iter().zip(&fitted) {
        html.text("\n");
        html.bold(&format!("{label}:"));
        html.text(&format!(" {value}"));
    }
    let shortened = fitted.iter().zip(&values).any(|(f, v)| f != v);
    if let Some(link) = link.as_ref().filter(|_| shortened) {
        html.text(link);
    }
    if let Some(outcome) = &outcome {
        html.text("\n\n");
        html.bold(outcome);
    }
    debug_assert!(html.visible <= MAX_TEXT, "{} > {MAX_TEXT}", html.visible);
    html.html
}

/// `values` shortened so that together they take at most `budget` units: values under the
/// common cap are kept whole, the longer ones are cut to the cap ("water filling").
fn fit_values(values: &[&str], budget: usize) -> Vec<String> {
    let mut lengths: Vec<usize> = values.iter().map(|v| units(v)).collect();
    if lengths.iter().sum::<usize>() <= budget {
        return values.iter().map(|v| (*v).to_owned()).collect();
    }
    lengths.sort_unstable();
    let mut remaining = budget;
    let mut cap = 0;
    for (i, length) in lengths.iter().enumerate() {
        let share = remaining / (lengths.len() - i);
        if *length > share {
            cap = share;
            break;
        }
        remaining -= length;
    }
    values
        .iter()
        .map(|v| shorten_units(v, cap.max(1), None))
        .collect()
}

/// A plain alert as HTML: the bold title and the body, shortened with the details link.
pub fn notice_html(notice: &Notice) -> String {
    let title = shorten_units(&notice.title, MAX_TITLE, None);
    let head = format!("Incident {} · {:?}\n", notice.incident, notice.severity);
    let room = MAX_TEXT - units(&title) - 1 - units(&head);
    let body = shorten_units(&notice.body, room, notice.details_url.as_deref());
    let mut html = Html::default();
    html.bold(&title);
    html.text("\n");
    html.text(&head);
    html.text(&body);
    html.html
}

/// The inline keyboard of a prompt: one row with a button per choice.
///
/// # Errors
/// The label of a choice whose token cannot fit in `callback_data` even without a prefix.
pub fn keyboard(choices: &[Choice]) -> Result<InlineKeyboardMarkup, String> {
    let row = choices
        .iter()
        .map(|choice| {
            let data = callback_data(choice).ok_or_else(|| choice.label.clone())?;
            Ok(InlineKeyboardButton::callback(
                shorten_units(&choice.label, 64, None),
                data,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(InlineKeyboardMarkup::new([row]))
}

/// `a:<token>` or `r:<token>`, or the bare token when the prefix would not fit in 64 bytes.
fn callback_data(choice: &Choice) -> Option<String> {
    let prefix = if choice.approves {
        APPROVE_PREFIX
    } else {
        REJECT_PREFIX
    };
    let token = &choice.token;
    if token.is_empty() || token.len() > MAX_CALLBACK_DATA {
        return None;
    }
    if prefix.len() + token.len() <= MAX_CALLBACK_DATA {
        Some(format!("{prefix}{token}"))
    } else {
        Some(token.clone())
    }
}

/// The token carried by a button's `callback_data`, unchanged.
pub fn token_of(data: &str) -> &str {
    data.strip_prefix(APPROVE_PREFIX)
        .or_else(|| data.strip_prefix(REJECT_PREFIX))
        .unwrap_or(data)
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
