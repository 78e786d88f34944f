//! The `robot-sre` binary: parse the command line and run it. Logic lives in the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: ingest allocates many small maps and strings per
/// alert, and the system allocator took about 30% of the service's CPU in the ingest benchmark.
/// Declared here, not in the library, so other binaries linking the library choose their own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    robot_sre::cli::Cli::parse().run().await
}
