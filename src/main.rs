//! The `robot-sre` binary: parse the command line and run it. Logic lives in the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    robot_sre::cli::Cli::parse().run().await
}
