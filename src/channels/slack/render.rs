//! Prompts, notices, replies and outcomes as Block Kit, within Slack's limits. Text that is too
//! long is shortened with a link to the full text; nothing fails because of its length.

use slack_morphism::prelude::*;

use crate::channels::fit;
use crate::channels::{ChannelKind, Choice, DeliveryError, Notice, Prompt};

/// Slack's published limits (https://docs.slack.dev/reference/block-kit/blocks,
/// https://docs.slack.dev/reference/block-kit/block-elements/button-element,
/// https://docs.slack.dev/reference/methods/chat.postMessage).
pub mod limits {
    /// Blocks in one message.
    pub const MAX_BLOCKS: usize = 50;
    /// Characters of a header block's text.
    pub const HEADER_TEXT: usize = 150;
    /// Characters of a section block's text (and of any text object).
    pub const SECTION_TEXT: usize = 3000;
    /// Elements of a context block.
    pub const CONTEXT_ELEMENTS: usize = 10;
    /// Elements of an actions block.
    pub const ACTIONS_ELEMENTS: usize = 25;
    /// Characters of a button's text.
    pub const BUTTON_TEXT: usize = 75;
    /// Characters of a button's value.
    pub const BUTTON_VALUE: usize = 2000;
    /// Characters of an `action_id` or `block_id`.
    pub const ID: usize = 255;
    /// The notification fallback `text`; Slack truncates beyond 40,000 characters and advises
    /// staying near 4,000.
    pub const FALLBACK_TEXT: usize = 4000;
}

/// The `block_id` of the actions block of a prompt.
pub const ACTIONS_BLOCK_ID: &str = "robot_sre_choices";
/// `action_id` prefix of a button that approves.
pub const APPROVE_ACTION: &str = "approve";
/// `action_id` prefix of a button that declines.
pub const REJECT_ACTION: &str = "reject";

/// A prompt: header, context line, one section per field, then the buttons.
///
/// # Errors
/// [`DeliveryError::Invalid`] when a token does not fit a button value (tokens are never
/// shortened: a cut token could never be redeemed).
pub fn prompt(prompt: &Prompt) -> Result<SlackMessageContent, DeliveryError> {
    let mut blocks = prompt_body(prompt);
    blocks.truncate(limits::MAX_BLOCKS - 1);
    blocks.push(actions(&prompt.choices)?);
    Ok(SlackMessageContent::new()
        .with_text(fallback(
            &prompt.plain_text(),
            prompt.details_url.as_deref(),
        ))
        .with_blocks(blocks))
}

/// A prompt without its buttons: what stays visible once the prompt is closed.
pub fn prompt_body(prompt: &Prompt) -> Vec<SlackBlock> {
    let link = prompt.details_url.as_deref();
    let context = format!(
        "*{}* · {} · expires {}",
        prompt.severity.as_str().to_ascii_uppercase(),
        prompt.incident,
        prompt.expires_at.format("%H:%M UTC")
    );
    let mut blocks = vec![header(&prompt.title), context_line(&context, link)];
    for (label, value) in prompt.fields() {
        let text = format!("*{label}*\n{}", escape(&value));
        blocks.push(section(&text, link));
    }
    cap(blocks, link)
}

/// A plain alert: header and body sections, no buttons.
pub fn notice(notice: &Notice) -> SlackMessageContent {
    let link = notice.details_url.as_deref();
    let context = format!(
        "*{}* · {}",
        notice.severity.as_str().to_ascii_uppercase(),
        notice.incident
    );
    let mut blocks = vec![header(&notice.title), context_line(&context, link)];
    blocks.extend(sections(&escape(&notice.body)));
    let text = format!("{}\n{}", notice.title, notice.body);
    SlackMessageContent::new()
        .with_text(fallback(&text, link))
        .with_blocks(cap(blocks, link))
}

/// A thread reply: the text in as many sections as it needs.
pub fn reply(text: &str) -> SlackMessageContent {
    SlackMessageContent::new()
        .with_text(fallback(text, None))
        .with_blocks(cap(sections(&escape(text)), None))
}

/// A closed prompt: the kept body (when known) with the outcome under its header, no buttons.
pub fn closed(body: Option<Vec<SlackBlock>>, outcome: &str) -> SlackMessageContent {
    let outcome_block = section(&format!("*Outcome:* {}", escape(outcome)), None);
    let mut blocks = body.unwrap_or_default();
    let at = usize::from(matches!(blocks.first(), Some(SlackBlock::Header(_))));
    blocks.insert(at, outcome_block);
    blocks.retain(|block| !matches!(block, SlackBlock::Actions(_)));
    SlackMessageContent::new()
        .with_text(fallback(outcome, None))
        .with_blocks(cap(blocks, None))
}

/// The buttons: Approve (primary) / Reject (danger), the token as the value, the `action_id`
/// naming the choice (`approve`, `reject`, numbered when a kind repeats).
fn actions(choices: &[Choice]) -> Result<SlackBlock, DeliveryError> {
    let mut elements = Vec::new();
    for (index, choice) in choices.iter().take(limits::ACTIONS_ELEMENTS).enumerate() {
        if choice.token.chars().count() > limits::BUTTON_VALUE {
            return Err(DeliveryError::Invalid {
                channel: ChannelKind::Slack,
                reason: format!("choice {index}: token longer than a button value"),
            });
        }
        let repeated = choices[..index]
            .iter()
            .any(|c| c.approves == choice.approves);
        elements.push(button(choice, repeated.then_some(index)).into());
    }
    Ok(SlackActionsBlock::new(elements)
        .with_block_id(ACTIONS_BLOCK_ID.into())
        .into())
}

fn button(choice: &Choice, number: Option<usize>) -> SlackBlockButtonElement {
    let (kind, style) = if choice.approves {
        (APPROVE_ACTION, SlackBlockButtonStyle::Primary)
    } else {
        (REJECT_ACTION, SlackBlockButtonStyle::Danger)
    };
    let action_id = match number {
        Some(n) => format!("{kind}-{n}"),
        None => kind.to_owned(),
    };
    SlackBlockButtonElement::new(pt!(fit::shorten(&choice.label, limits::BUTTON_TEXT, None)))
        .with_action_id(action_id.into())
        .with_value(choice.token.clone())
        .with_style(style)
}

fn header(title: &str) -> SlackBlock {
    SlackHeaderBlock::new(pt!(fit::shorten(title, limits::HEADER_TEXT, None))).into()
}

fn context_line(text: &str, link: Option<&str>) -> SlackBlock {
    let text = fit_mrkdwn(text, limits::SECTION_TEXT, link);
    SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
        SlackBlockMarkDownText::new(text),
    )])
    .into()
}

fn section(text: &str, link: Option<&str>) -> SlackBlock {
    let text = fit_mrkdwn(text, limits::SECTION_TEXT, link);
    SlackSectionBlock::new()
        .with_text(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text)))
        .into()
}

/// Already escaped text split into sections of at most the section limit.
fn sections(escaped: &str) -> Vec<SlackBlock> {
    let text = if escaped.is_empty() { " " } else { escaped };
    fit::split(text, limits::SECTION_TEXT)
        .iter()
        .map(|part| section(part, None))
        .collect()
}

/// At most [`limits::MAX_BLOCKS`] blocks; when cut, the last one says where the rest is.
fn cap(mut blocks: Vec<SlackBlock>, link: Option<&str>) -> Vec<SlackBlock> {
    if blocks.len() > limits::MAX_BLOCKS {
        blocks.truncate(limits::MAX_BLOCKS - 1);
        let more = match link {
            Some(link) => format!("{} more in the full text: {link}", fit::ELLIPSIS),
            None => format!("{} (shortened)", fit::ELLIPSIS),
        };
        blocks.push(section(&more, None));
    }
    blocks
}

/// Plain fallback text for notifications, within the advised length.
fn fallback(text: &str, link: Option<&str>) -> String {
    fit::shorten(text, limits::FALLBACK_TEXT, link)
}

/// Escaped mrkdwn shortened to `max` characters without leaving half an entity (`&am…`).
fn fit_mrkdwn(text: &str, max: usize, link: Option<&str>) -> String {
    let shortened = fit::shorten(text, max, link);
    if shortened == text {
        return shortened;
    }
    let Some(cut) = shortened.rfind(fit::ELLIPSIS) else {
        return shortened;
    };
    let (kept, suffix) = shortened.split_at(cut);
    match kept.rfind('&') {
        Some(amp) if !kept[amp..].contains(';') => format!("{}{suffix}", &kept[..amp]),
        _ => shortened,
    }
}

/// Slack mrkdwn control characters escaped (https://docs.slack.dev/messaging/formatting-message-text#escaping).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
