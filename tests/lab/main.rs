//! Tests of the Kubernetes lab itself, against one shared lab (see `helpers`): the simulated
//! kubelet's faults show what a real cluster shows, the real controllers and RBAC behave, and
//! the launcher stops exactly what it started.

mod faults;
mod helpers;
mod launcher;
mod nodes;
mod rbac;
mod scenarios;
mod workloads;
