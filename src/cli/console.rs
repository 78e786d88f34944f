//! Console commands: making password hashes for `channels.console.users`.

use std::io::Read;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// Read a password from standard input (one line, or everything up to end of input) and
    /// print its argon2id PHC hash for `channels.console.users[].password_hash`.
    HashPassword,
}

impl ConsoleCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ConsoleCommand::HashPassword => {
                let mut input = String::new();
                std::io::stdin().read_to_string(&mut input)?;
                let password = input.strip_suffix('\n').unwrap_or(&input);
                let password = password.strip_suffix('\r').unwrap_or(password);
                if password.is_empty() {
                    anyhow::bail!("no password on standard input");
                }
                let hash = crate::channels::console::auth::hash_password(password)
                    .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
                println!("{hash}");
                Ok(())
            }
        }
    }
}
