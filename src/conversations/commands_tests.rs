use proptest::prelude::*;

use super::*;

const ID: &str = "inc-7k2m9x4q1z3p";

fn id() -> IncidentId {
    IncidentId::from_stored(ID)
}

fn parse(text: &str) -> Command {
    Command::parse(text).unwrap_or_else(|e| panic!("{text:?} did not parse: {e}"))
}

fn error(text: &str) -> CommandError {
    match Command::parse(text) {
        Ok(command) => panic!("{text:?} parsed as {command:?}"),
        Err(error) => error,
    }
}

#[test]
fn parse_reads_every_command() {
    let cases = [
        (
            format!("/incident status {ID}"),
            Command::Status { id: Some(id()) },
        ),
        ("/incident status".to_owned(), Command::Status { id: None }),
        ("/incident list".to_owned(), Command::List),
        (format!("/incident ack {ID}"), Command::Ack { id: id() }),
        (
            format!("/incident approve {ID}"),
            Command::Approve { id: id() },
        ),
        (
            format!("/incident reject {ID}"),
            Command::Reject { id: id() },
        ),
        (
            format!("/incident silence {ID} 30m"),
            Command::Silence {
                id: id(),
                duration: Duration::from_secs(1800),
            },
        ),
        (
            format!("/incident escalate {ID}"),
            Command::Escalate { id: id() },
        ),
        ("/incident help".to_owned(), Command::Help),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(&text), expected, "{text}");
    }
}

#[test]
fn parse_accepts_every_prefix_form_case_and_spacing() {
    let expected = Command::Ack { id: id() };
    for text in [
        format!("/incident ack {ID}"),
        format!("incident ack {ID}"),
        format!("INCIDENT  Ack\t{ID}"),
        format!("/Incident@RobotSreBot ack {ID}"),
        format!("  ack   {ID}  "),
        format!("/incident\nack\n{ID}"),
    ] {
        assert_eq!(parse(&text), expected, "{text:?}");
    }
}

#[test]
fn parse_gives_help_when_text_is_empty_or_only_the_prefix() {
    for text in ["", "   ", "/incident", "incident", "/INCIDENT  "] {
        assert_eq!(parse(text), Command::Help, "{text:?}");
    }
}

#[test]
fn parse_normalises_ids_when_typed_by_eye() {
    let expected = IncidentId::from_stored("inc-0k2m9x4q1z31");
    for text in ["INC-0K2M9X4Q1Z31", "inc-ok2m9x4qlz3i", "0k2m9x4q1z31"] {
        let command = parse(&format!("status {text}"));
        assert_eq!(command.incident(), Some(&expected), "{text}");
    }
}

#[test]
fn parse_refuses_a_malformed_id_and_names_the_usage() {
    for text in [
        "inc-123",
        "inc-7k2m9x4q1z3pp",
        "inc-7k2m9x4q1z3u",
        "inc-7k2m9x4q1z3é",
        "list",
    ] {
        let error = error(&format!("/incident approve {text}"));
        assert_eq!(
            error,
            CommandError::BadId {
                command: "approve",
                text: text.into()
            }
        );
        let message = error.to_string();
        assert!(message.contains("is not an incident id"), "{message}");
        assert!(
            message.ends_with("usage: /incident approve <id>"),
            "{message}"
        );
    }
}

#[test]
fn parse_answers_an_unknown_command_with_every_usage() {
    let error = error("/incident restart everything");
    assert_eq!(
        error,
        CommandError::Unknown {
            word: "restart".into()
        }
    );
    let message = error.to_string();
    assert!(
        message.starts_with("unknown command `restart`; try: /incident status [id] · list"),
        "{message}"
    );
    for usage in USAGES {
        assert!(
            message.contains(usage.name),
            "{message} lacks {}",
            usage.name
        );
    }
    assert!(message.contains("silence <id> <duration>"), "{message}");
}

#[test]
fn parse_names_the_missing_argument_and_the_usage() {
    let cases = [
        ("ack", "ack", "<id>", "/incident ack <id>"),
        ("approve", "approve", "<id>", "/incident approve <id>"),
        ("reject", "reject", "<id>", "/incident reject <id>"),
        ("escalate", "escalate", "<id>", "/incident escalate <id>"),
        (
            "silence",
            "silence",
            "<id>",
            "/incident silence <id> <duration>",
        ),
    ];
    for (text, command, missing, usage) in cases {
        let error = error(&format!("/incident {text}"));
        assert_eq!(error, CommandError::MissingArgument { command, missing });
        assert_eq!(
            error.to_string(),
            format!("`/incident {command}` needs {missing}; usage: {usage}")
        );
    }
    let error = error(&format!("/incident silence {ID}"));
    assert_eq!(
        error,
        CommandError::MissingArgument {
            command: "silence",
            missing: "<duration>"
        }
    );
}

#[test]
fn parse_names_an_extra_argument_and_the_usage() {
    let cases = [
        ("list now".to_owned(), "list", "now", "/incident list"),
        ("help me".to_owned(), "help", "me", "/incident help"),
        (
            format!("status {ID} please"),
            "status",
            "please",
            "/incident status [id]",
        ),
        (format!("ack {ID} {ID}"), "ack", ID, "/incident ack <id>"),
    ];
    for (text, command, extra, usage) in cases {
        let error = error(&text);
        assert_eq!(
            error,
            CommandError::ExtraArgument {
                command,
                extra: extra.into()
            }
        );
        assert!(
            error.to_string().ends_with(&format!("usage: {usage}")),
            "{error}"
        );
    }
}

#[test]
fn parse_reads_a_silence_duration_written_with_spaces() {
    assert_eq!(
        parse(&format!("silence {ID} 1h  30m")),
        Command::Silence {
            id: id(),
            duration: Duration::from_secs(5400)
        }
    );
    let error = error(&format!("silence {ID} 1h now"));
    assert!(
        matches!(&error, CommandError::BadDuration { text, .. } if text == "1h now"),
        "{error:?}"
    );
}

#[test]
fn parse_refuses_a_bad_or_zero_silence_duration() {
    let bad = error(&format!("silence {ID} soon"));
    assert!(matches!(&bad, CommandError::BadDuration { text, .. } if text == "soon"));
    let message = bad.to_string();
    assert!(
        message.starts_with("`soon` is not a duration ("),
        "{message}"
    );
    assert!(
        message.ends_with("usage: /incident silence <id> <duration>"),
        "{message}"
    );
    let zero = error(&format!("silence {ID} 0s"));
    assert_eq!(zero, CommandError::ZeroDuration);
    assert!(zero.to_string().contains("longer than zero"));
}

#[test]
fn parse_shortens_long_words_quoted_back() {
    let word = "x".repeat(500);
    let CommandError::Unknown { word: shown } = error(&word) else {
        panic!("not unknown");
    };
    assert_eq!(shown.chars().count(), 41);
    assert!(shown.ends_with('…'));
}

#[test]
fn within_refuses_a_silence_longer_than_the_maximum() {
    let two_hours = parse(&format!("silence {ID} 2h"));
    let max = Duration::from_secs(3600);
    let error = two_hours.clone().within(max).unwrap_err();
    assert_eq!(
        error,
        CommandError::SilenceTooLong {
            asked: Duration::from_secs(7200),
            max
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("a silence may last at most 1h;"),
        "{error}"
    );
    assert_eq!(
        two_hours.clone().within(Duration::from_secs(7200)),
        Ok(two_hours)
    );
    assert_eq!(Command::List.within(max), Ok(Command::List));
}

#[test]
fn name_is_the_word_that_parses_to_the_command() {
    for usage in USAGES {
        let mut text = format!("/incident {}", usage.name);
        for arg in usage.args.iter().filter(|a| a.starts_with('<')) {
            text.push_str(if *arg == "<id>" {
                " inc-7k2m9x4q1z3p"
            } else {
                " 5m"
            });
        }
        assert_eq!(parse(&text).name(), usage.name, "{text}");
    }
}

#[test]
fn help_text_has_one_line_per_command_with_a_description() {
    let help = help_text();
    let lines: Vec<&str> = help.lines().collect();
    assert_eq!(lines.len(), USAGES.len());
    for (line, usage) in lines.iter().zip(USAGES.iter()) {
        assert!(
            line.starts_with(&format!("/incident {}", usage.name)),
            "{line}"
        );
        assert!(line.ends_with(usage.about), "{line}");
    }
    assert!(
        help.contains("/incident silence <id> <duration> — "),
        "{help}"
    );
}

#[test]
fn usage_summary_fits_a_telegram_command_description() {
    let summary = usage_summary();
    assert!((1..=256).contains(&summary.chars().count()), "{summary}");
    assert!(
        summary.starts_with("status [id] · list · ack <id>"),
        "{summary}"
    );
}

fn any_id() -> impl Strategy<Value = IncidentId> {
    "[0-9a-hjkmnp-tv-z]{12}".prop_map(|s| IncidentId::from_stored(format!("inc-{s}")))
}

fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        proptest::option::of(any_id()).prop_map(|id| Command::Status { id }),
        Just(Command::List),
        any_id().prop_map(|id| Command::Ack { id }),
        any_id().prop_map(|id| Command::Approve { id }),
        any_id().prop_map(|id| Command::Reject { id }),
        (any_id(), 1u64..10_000_000).prop_map(|(id, s)| Command::Silence {
            id,
            duration: Duration::from_secs(s)
        }),
        any_id().prop_map(|id| Command::Escalate { id }),
        Just(Command::Help),
    ]
}

/// Whatever `text` is, parsing neither panics nor stays silent: a command that reads back the
/// same, or an answer that names the usage.
fn answered(text: &str) -> Result<(), TestCaseError> {
    match Command::parse(text) {
        Ok(command) => prop_assert_eq!(Command::parse(&command.to_string()), Ok(command)),
        Err(error) => prop_assert!(error.to_string().contains("/incident "), "{}", error),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_answers_arbitrary_text_with_a_command_or_a_usage(text in any::<String>()) {
        answered(&text)?;
    }

    #[test]
    fn parse_answers_arbitrary_arguments_with_a_command_or_a_usage(
        name in prop::sample::select(USAGES.iter().map(|u| u.name).collect::<Vec<_>>()),
        args in prop::collection::vec("\\PC{0,20}", 0..4),
    ) {
        answered(&format!("/incident {name} {}", args.join(" ")))?;
    }

    #[test]
    fn parse_reads_back_the_display_of_any_command(command in any_command()) {
        prop_assert_eq!(Command::parse(&command.to_string()), Ok(command));
    }
}
