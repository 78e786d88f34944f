//! Crash drills: `ROBOT_SRE_FAULT_KILL_AT=<point>` makes the process SIGKILL itself when it
//! reaches `<point>`, so a test (or an operator rehearsing) can prove that a restart finishes
//! the work exactly once. Points: `after_approval` (the approval is stored, nothing was sent to
//! the cluster), `after_apply` (ops stored the Applied packet, verification has not started).
//! Unset (always, in production) it does nothing.

/// The environment variable that arms a drill.
pub const KILL_AT: &str = "ROBOT_SRE_FAULT_KILL_AT";

/// Dies here, as `kill -9` would, if the drill is armed for `point`.
pub(super) fn kill_point(point: &str) {
    if std::env::var(KILL_AT).is_ok_and(|armed| armed == point) {
        tracing::error!(point, "{KILL_AT}: killing this process with SIGKILL");
        // SIGKILL cannot be caught: nothing after this line runs.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        std::process::abort();
    }
}
