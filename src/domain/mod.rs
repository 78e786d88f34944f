//! Validated names shared by every module: parse once at the edge, then pass the type.

mod action;
mod names;

pub use action::ActionKind;
pub use names::{NameError, Namespace, ResourceName};
