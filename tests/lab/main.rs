//! Tests of the Kubernetes lab itself, against one shared lab (see `helpers`): the simulated
//! kubelet's faults show what a real cluster shows, the real controllers and RBAC behave, and
//! the launcher stops exactly what it started. `ops/` tests the bot's actions, guardrails and
//! verification through its own least-privilege ServiceAccount.

mod conversations;
mod deploy;
mod faults;
mod helpers;
mod launcher;
mod nodes;
mod ops;
mod policy;
mod rbac;
mod scenarios;
mod workloads;
