//! Validated names shared by every module: parse once at the edge, then pass the type.

mod names;

pub use names::{NameError, Namespace, ResourceName};
