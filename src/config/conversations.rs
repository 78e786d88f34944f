//! Settings of the conversations: how long a prompt is valid, who may approve what, which
//! decisions need two people, who hears about expiries and failures, and the background loops.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::channels::Person;
use crate::conversations::approvers::Approvers;
use crate::incidents::model::Environment;
use crate::policy::ActionClass;

/// Prefix of a `who` or `escalate_to` entry naming a group rather than a person.
pub const GROUP_PREFIX: &str = "group:";

const PROMPT_EXPIRY: (Duration, Duration) = (Duration::from_secs(30), Duration::from_secs(86_400));
const SWEEP_INTERVAL: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(300));
const LEASE_TTL_MAX: Duration = Duration::from_secs(3600);
const SILENCE_MAX: (Duration, Duration) =
    (Duration::from_secs(60), Duration::from_secs(30 * 86_400));

/// Conversations with on-call humans.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversationSettings {
    /// How long an approval prompt is valid (30s to 24h). Undecided by then, its buttons are
    /// removed and the incident is escalated.
    #[serde(with = "humantime_serde")]
    pub prompt_expiry: Duration,
    /// Who may approve which action classes in which environments. Empty (the default): nobody
    /// may approve, so the bot only alerts and suggests (a warning at start-up says so).
    pub approvers: Vec<ApproverRule>,
    /// Which decisions need two distinct approvers.
    pub second_approver: SecondApprover,
    /// People (`alice`) or groups (`group:sre`) told when a prompt expires or an action fails.
    /// Empty (the default): the notice goes to the incident's route only.
    pub escalate_to: Vec<String>,
    /// How often the expiry sweeper and the resumption of in-flight conversations run
    /// (1s to 5m).
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    /// The lease that lets one replica at a time run the background loops; must exceed twice
    /// `sweep_interval` (and at most 1h), so a live holder always renews it in time.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// The longest `/incident silence <id> <duration>` accepted (1m to 30 days).
    #[serde(with = "humantime_serde")]
    pub silence_max: Duration,
}

impl Default for ConversationSettings {
    fn default() -> Self {
        Self {
            prompt_expiry: Duration::from_secs(15 * 60),
            approvers: Vec::new(),
            second_approver: SecondApprover::default(),
            escalate_to: Vec::new(),
            sweep_interval: Duration::from_secs(5),
            lease_ttl: Duration::from_secs(30),
            silence_max: Duration::from_secs(86_400),
        }
    }
}

/// One grant: these people and groups may approve these classes in these environments.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApproverRule {
    /// Person names from `channels.people`, or `group:<name>` for everyone in that group.
    pub who: Vec<String>,
    /// Action classes that need approval: `contain`, `recover`, `disruptive`.
    pub classes: Vec<ActionClass>,
    /// Environments the grant holds in (`demo`, `staging`, `production`); empty or absent
    /// means all of them.
    #[serde(default)]
    pub environments: Vec<Environment>,
}

/// Decisions that need two distinct approvers before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecondApprover {
    /// Action classes needing a second approver; empty turns the rule off.
    pub classes: Vec<ActionClass>,
    /// Environments where it applies; empty means all of them.
    pub environments: Vec<Environment>,
}

impl Default for SecondApprover {
    fn default() -> Self {
        Self {
            classes: vec![ActionClass::Disruptive],
            environments: vec![Environment::Production],
        }
    }
}

impl SecondApprover {
    /// Whether a decision on `class` in `environment` needs two distinct approvers.
    pub fn applies(&self, class: ActionClass, environment: Environment) -> bool {
        self.classes.contains(&class)
            && (self.environments.is_empty() || self.environments.contains(&environment))
    }
}

/// Whether `class` is one a human approves (observe and notify never wait for anyone).
pub fn needs_approval(class: ActionClass) -> bool {
    !matches!(class, ActionClass::Observe | ActionClass::Notify)
}

/// Problems types cannot express, as `(dotted key, problem)`; `people` is `channels.people`.
pub(super) fn validate(
    settings: &ConversationSettings,
    people: &[Person],
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, key: &str, problem: String| {
        if !ok {
            problems.push((format!("conversations.{key}"), problem));
        }
    };
    let within = |value: Duration, (low, high): (Duration, Duration)| {
        (
            value >= low && value <= high,
            format!("must be {}..={}", show(low), show(high)),
        )
    };
    for (key, value, range) in [
        ("prompt_expiry", settings.prompt_expiry, PROMPT_EXPIRY),
        ("sweep_interval", settings.sweep_interval, SWEEP_INTERVAL),
        ("silence_max", settings.silence_max, SILENCE_MAX),
    ] {
        let (ok, problem) = within(value, range);
        check(ok, key, format!("{} {problem}", show(value)));
    }
    let lease = settings.lease_ttl;
    check(
        lease > settings.sweep_interval * 2 && lease <= LEASE_TTL_MAX,
        "lease_ttl",
        format!(
            "{} must exceed twice sweep_interval ({}) and be at most {}",
            show(lease),
            show(settings.sweep_interval),
            show(LEASE_TTL_MAX)
        ),
    );
    for (index, rule) in settings.approvers.iter().enumerate() {
        for problem in rule_problems(rule, people) {
            check(
                false,
                "approvers",
                format!("entry {}: {problem}", index + 1),
            );
        }
    }
    for problem in who_problems(&settings.escalate_to, people) {
        check(false, "escalate_to", problem);
    }
    for class in &settings.second_approver.classes {
        check(
            needs_approval(*class),
            "second_approver.classes",
            format!("{class} actions need no approval; list contain, recover or disruptive"),
        );
    }
    problems
}

fn rule_problems(rule: &ApproverRule, people: &[Person]) -> Vec<String> {
    let mut problems = who_problems(&rule.who, people);
    if rule.who.is_empty() {
        problems.push("`who` is empty; name people or `group:<name>`".into());
    }
    if rule.classes.is_empty() {
        problems.push("`classes` is empty; list contain, recover or disruptive".into());
    }
    for class in rule.classes.iter().filter(|c| !needs_approval(**c)) {
        problems.push(format!(
            "{class} actions need no approval; list contain, recover or disruptive"
        ));
    }
    problems
}

/// What is wrong with each person or group entry that names nobody in `people`.
fn who_problems(who: &[String], people: &[Person]) -> Vec<String> {
    who.iter()
        .filter_map(|entry| match entry.strip_prefix(GROUP_PREFIX) {
            Some(group) if group.trim().is_empty() => {
                Some(format!("`{entry}` names no group; write group:<name>"))
            }
            Some(group) => (!people.iter().any(|p| p.groups.iter().any(|g| g == group)))
                .then(|| format!("group `{group}` has no members in channels.people")),
            None => (!people.iter().any(|p| &p.name == entry))
                .then(|| format!("`{entry}` is not a person in channels.people")),
        })
        .collect()
}

/// Legal but risky choices, for the log and `check-config`; `people` is `channels.people`.
pub(super) fn warnings(settings: &ConversationSettings, people: &[Person]) -> Vec<String> {
    if settings.approvers.is_empty() {
        return vec![
            "conversations.approvers is empty: nobody may approve an action, so the bot only \
             alerts and suggests (list the people or groups allowed to approve)"
                .to_owned(),
        ];
    }
    let approvers = Approvers::new(&settings.approvers, &settings.second_approver, people);
    let mut warnings = Vec::new();
    for class in &settings.second_approver.classes {
        for (environment, name) in [
            (Environment::Demo, "demo"),
            (Environment::Staging, "staging"),
            (Environment::Production, "production"),
        ] {
            let eligible = approvers.eligible(*class, environment);
            if approvers.required(*class, environment) == 2 && eligible.len() == 1 {
                warnings.push(format!(
                    "conversations.second_approver: {class} actions in {name} need two \
                     distinct approvers but only {} may approve them, so they can never run",
                    eligible[0]
                ));
            }
        }
    }
    warnings
}

fn show(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
#[path = "conversations_tests.rs"]
mod tests;
