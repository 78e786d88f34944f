//! Prompts and alerts rendered as WhatsApp messages, always within the Cloud API's limits
//! (spec `InteractiveObject`/`ActionObject`; https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-reply-buttons-messages):
//! body 1024 characters, header and footer 60, at most 3 reply buttons with unique titles of at
//! most 20 characters and ids of at most 256; text messages 4096 characters.

use crate::channels::fit::shorten;
use crate::channels::{Choice, Notice, Prompt};
use crate::config::WhatsAppTemplates;

use super::wire::{
    Action, BodyText, Button, Component, Content, Header, Interactive, Language, Parameter, Reply,
    Template, Text,
};

pub const BODY_MAX: usize = 1024;
pub const HEADER_MAX: usize = 60;
pub const FOOTER_MAX: usize = 60;
pub const BUTTONS_MAX: usize = 3;
pub const TITLE_MAX: usize = 20;
pub const TEXT_MAX: usize = 4096;
/// Kept well under the 1024-character template body, which also holds the template's own text.
const PARAM_MAX: usize = 200;
const SUMMARY_MAX: usize = 480;

/// The approval prompt as an interactive reply-button message.
pub fn interactive_prompt(prompt: &Prompt) -> Content {
    let header = format!(
        "{} {}",
        prompt.severity.as_str().to_ascii_uppercase(),
        prompt.incident.as_str()
    );
    let footer = format!("Expires {}", prompt.expires_at.format("%H:%M UTC"));
    Content::Interactive {
        interactive: Interactive {
            kind: "button",
            header: Some(Header {
                kind: "text",
                text: shorten(&header, HEADER_MAX, None),
            }),
            body: BodyText {
                text: shorten(
                    &prompt.plain_text(),
                    BODY_MAX,
                    prompt.details_url.as_deref(),
                ),
            },
            footer: Some(BodyText {
                text: shorten(&footer, FOOTER_MAX, None),
            }),
            action: Action {
                buttons: buttons(&prompt.choices),
            },
        },
    }
}

/// At most three buttons with non-empty, unique titles of at most 20 characters; the id is the
/// token, unchanged.
pub fn buttons(choices: &[Choice]) -> Vec<Button> {
    let mut titles: Vec<String> = Vec::new();
    let mut buttons = Vec::new();
    for (index, choice) in choices.iter().take(BUTTONS_MAX).enumerate() {
        let title = unique_title(&choice.label, index, &titles);
        titles.push(title.clone());
        buttons.push(Button {
            kind: "reply",
            reply: Reply {
                id: choice.token.clone(),
                title,
            },
        });
    }
    buttons
}

fn unique_title(label: &str, index: usize, taken: &[String]) -> String {
    let label = one_line(label);
    let title = shorten(label.trim(), TITLE_MAX, None);
    if !title.is_empty() && !taken.contains(&title) {
        return title;
    }
    let suffix = format!(" {}", index + 1);
    let stem = shorten(label.trim(), TITLE_MAX - suffix.chars().count(), None);
    let stem = if stem.is_empty() {
        "Choice".into()
    } else {
        stem
    };
    format!("{stem}{suffix}")
}

/// The approval template, its body parameters and one quick-reply payload (the token) per
/// registered button: Approve at index 0, Reject at index 1.
pub fn approval_template(prompt: &Prompt, name: &str, templates: &WhatsAppTemplates) -> Content {
    let body = vec![
        param(&prompt.title, PARAM_MAX),
        param(&summary(prompt), SUMMARY_MAX),
        param(
            &prompt.expires_at.format("%H:%M UTC").to_string(),
            PARAM_MAX,
        ),
        param(link(prompt.details_url.as_deref()), PARAM_MAX),
    ];
    let mut components = vec![Component::Body { parameters: body }];
    let approve = prompt.choices.iter().find(|c| c.approves);
    let reject = prompt.choices.iter().find(|c| !c.approves);
    for (index, choice) in [approve, reject].into_iter().enumerate() {
        if let Some(choice) = choice {
            components.push(Component::Button {
                sub_type: "quick_reply",
                index: index.to_string(),
                parameters: vec![Parameter::Payload {
                    payload: choice.token.clone(),
                }],
            });
        }
    }
    template(name, templates, components)
}

/// The alert template: title, summary and the details link.
pub fn alert_template(
    title: &str,
    summary: &str,
    details_url: Option<&str>,
    templates: &WhatsAppTemplates,
) -> Content {
    let parameters = vec![
        param(title, PARAM_MAX),
        param(summary, SUMMARY_MAX),
        param(link(details_url), PARAM_MAX),
    ];
    template(
        &templates.alert,
        templates,
        vec![Component::Body { parameters }],
    )
}

/// A prompt sent as the alert template (no approval template configured).
pub fn prompt_as_alert(prompt: &Prompt, templates: &WhatsAppTemplates) -> Content {
    let summary = format!(
        "{} Expires {}. Reply \"approve\" or \"reject\" to this message.",
        summary(prompt),
        prompt.expires_at.format("%H:%M UTC")
    );
    alert_template(
        &prompt.title,
        &summary,
        prompt.details_url.as_deref(),
        templates,
    )
}

/// A notice as a text message, inside the window.
pub fn notice_text(notice: &Notice) -> Content {
    let text = format!(
        "[{}] {}\n{}",
        notice.severity.as_str().to_ascii_uppercase(),
        notice.title,
        notice.body
    );
    text_message(&text, notice.details_url.as_deref())
}

/// Any text within the 4096-character limit, pointing at `link` when shortened.
pub fn text_message(text: &str, link: Option<&str>) -> Content {
    Content::Text {
        text: Text {
            body: shorten(text, TEXT_MAX, link),
            preview_url: false,
        },
    }
}

fn template(name: &str, templates: &WhatsAppTemplates, components: Vec<Component>) -> Content {
    Content::Template {
        template: Template {
            name: name.to_owned(),
            language: Language {
                policy: "deterministic",
                code: templates.language.clone(),
            },
            components,
        },
    }
}

/// The fields a human needs to decide, on one line.
fn summary(prompt: &Prompt) -> String {
    prompt
        .fields()
        .into_iter()
        .take(5)
        .map(|(label, value)| format!("{label}: {value}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A template parameter: Meta rejects parameter text with new lines, tabs or more than four
/// consecutive spaces (error 132018), and empty text.
pub fn param(text: &str, max: usize) -> Parameter {
    let line = one_line(text);
    let text = if line.is_empty() { "-".into() } else { line };
    Parameter::Text {
        text: shorten(&text, max, None),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn link(url: Option<&str>) -> &str {
    url.unwrap_or("no link available")
}
