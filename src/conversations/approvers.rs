//! Who may approve which action class in which environment, and when enough people have.
//!
//! Built once from `conversations.approvers`, `conversations.second_approver` and
//! `channels.people`; groups are resolved to people here, so a decision is a set lookup. Pure:
//! no I/O, no clock.

use std::collections::BTreeSet;

use crate::channels::Person;
use crate::config::{ApproverRule, GROUP_PREFIX, SecondApprover};
use crate::incidents::model::Environment;
use crate::policy::ActionClass;

/// Why a person may not approve. The Display is the sentence told to the human.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthorized {
    #[error("you are not in channels.people, so you cannot approve")]
    UnknownUser,
    #[error("{person} may not approve {class} actions in {}", .environment.as_str())]
    NotAllowed {
        person: String,
        class: ActionClass,
        environment: Environment,
    },
    #[error(
        "nobody is configured to approve {class} actions in {}; an operator can add people \
         to conversations.approvers",
        .environment.as_str()
    )]
    NoApprovers {
        class: ActionClass,
        environment: Environment,
    },
}

/// Where a decision stands after one more approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Enough distinct people approved: the action may run.
    Complete,
    /// Counted, but more distinct approvers are needed.
    NeedsMore { have: usize, need: usize },
    /// This person already approved; it does not count twice.
    Duplicate,
}

/// One rule with its groups resolved to person names.
#[derive(Debug, Clone)]
struct Grant {
    people: BTreeSet<String>,
    classes: Vec<ActionClass>,
    environments: Vec<Environment>,
}

impl Grant {
    fn covers(&self, class: ActionClass, environment: Environment) -> bool {
        self.classes.contains(&class)
            && (self.environments.is_empty() || self.environments.contains(&environment))
    }
}

/// The approver rules, ready to answer.
#[derive(Debug, Clone)]
pub struct Approvers {
    grants: Vec<Grant>,
    known: BTreeSet<String>,
    second: SecondApprover,
}

impl Approvers {
    /// Resolves `rules` against `people`. Entries naming nobody (validation refuses them at
    /// start-up) simply grant nothing.
    pub fn new(rules: &[ApproverRule], second: &SecondApprover, people: &[Person]) -> Self {
        let grants = rules
            .iter()
            .map(|rule| Grant {
                people: resolve(&rule.who, people),
                classes: rule.classes.clone(),
                environments: rule.environments.clone(),
            })
            .collect();
        Self {
            grants,
            known: people.iter().map(|p| p.name.clone()).collect(),
            second: second.clone(),
        }
    }

    /// Whether `person` (the name the channel identity resolved to; `None` for an unknown
    /// sender) may approve a `class` action in `environment`.
    ///
    /// # Errors
    /// [`Unauthorized::UnknownUser`] for a sender not in `channels.people`,
    /// [`Unauthorized::NoApprovers`] when no rule covers the class and environment at all,
    /// [`Unauthorized::NotAllowed`] when rules do, but not for this person.
    pub fn authorize(
        &self,
        person: Option<&str>,
        class: ActionClass,
        environment: Environment,
    ) -> Result<(), Unauthorized> {
        let person = person
            .filter(|p| self.known.contains(*p))
            .ok_or(Unauthorized::UnknownUser)?;
        let eligible = self.eligible(class, environment);
        if eligible.is_empty() {
            return Err(Unauthorized::NoApprovers { class, environment });
        }
        if !eligible.contains(&person) {
            return Err(Unauthorized::NotAllowed {
                person: person.to_owned(),
                class,
                environment,
            });
        }
        Ok(())
    }

    /// Everyone who may approve a `class` action in `environment`, sorted by name.
    pub fn eligible(&self, class: ActionClass, environment: Environment) -> Vec<&str> {
        let names: BTreeSet<&str> = self
            .grants
            .iter()
            .filter(|grant| grant.covers(class, environment))
            .flat_map(|grant| grant.people.iter().map(String::as_str))
            .collect();
        names.into_iter().collect()
    }

    /// How many distinct people must approve a `class` action in `environment`: 1 or 2.
    pub fn required(&self, class: ActionClass, environment: Environment) -> usize {
        if self.second.applies(class, environment) {
            2
        } else {
            1
        }
    }

    /// Counts `person`'s approval on top of `so_far` (who already approved this prompt).
    /// Authorize `person` first: this only counts.
    ///
    /// # Guarantees
    /// The same person never counts twice, however often they appear in `so_far` or approve.
    pub fn record(
        &self,
        so_far: &[String],
        person: &str,
        class: ActionClass,
        environment: Environment,
    ) -> Approval {
        if so_far.iter().any(|p| p == person) {
            return Approval::Duplicate;
        }
        let mut distinct: BTreeSet<&str> = so_far.iter().map(String::as_str).collect();
        distinct.insert(person);
        let (have, need) = (distinct.len(), self.required(class, environment));
        if have >= need {
            Approval::Complete
        } else {
            Approval::NeedsMore { have, need }
        }
    }
}

/// The person names `who` stands for: named people, and every member of each named group.
fn resolve(who: &[String], people: &[Person]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in who {
        match entry.strip_prefix(GROUP_PREFIX) {
            Some(group) => names.extend(
                people
                    .iter()
                    .filter(|p| p.groups.iter().any(|g| g == group))
                    .map(|p| p.name.clone()),
            ),
            None if people.iter().any(|p| &p.name == entry) => {
                names.insert(entry.clone());
            }
            None => {}
        }
    }
    names
}

#[cfg(test)]
#[path = "approvers_tests.rs"]
mod tests;
