//! Configuration: one YAML file layered with `ROBOT_SRE__SECTION__KEY` environment overrides,
//! deserialized into typed settings and validated at start-up.
//!
//! Every field has a default, so an empty file (or none) is a valid, safe configuration: the
//! in-memory store, production as the environment, and an Alertmanager endpoint that refuses
//! everything until a token is set.

mod channels;
mod conversations;
mod load;
mod ops;
mod policy;
mod secret;
mod settings;
mod validate;

pub use channels::{
    ChannelSettings, ConsoleSettings, ConsoleUser, RateLimits, Route, RoutingSettings,
    SlackSettings, TelegramMode, TelegramSettings, WhatsAppSettings, WhatsAppTemplates,
};
pub use conversations::{
    ApproverRule, ConversationSettings, GROUP_PREFIX, SecondApprover, needs_approval,
};
pub use load::{ConfigError, LoadedSettings, load, load_from};
pub use ops::{GitOpsSettings, LabelSelector, OpsSettings, ScaleBounds, VerifySettings};
pub use policy::PolicySettings;
pub use secret::{MASK, Secret};
pub use settings::*;
