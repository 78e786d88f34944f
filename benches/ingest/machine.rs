//! The machine and software a run was measured on, for the report's header.

pub struct Machine {
    pub cpu: String,
    pub kernel: String,
    pub date: String,
    pub redis: String,
    pub rustc: String,
}

impl Machine {
    pub async fn describe() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|cpuinfo| {
                cpuinfo
                    .lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
        Self {
            cpu: cpu.unwrap_or_else(|| "unknown CPU".into()),
            kernel: format!("Linux {}", kernel.as_deref().unwrap_or("unknown").trim()),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            redis: first_line_of("redis-server", "--version").await,
            rustc: first_line_of("rustc", "--version").await,
        }
    }
}

async fn first_line_of(program: &str, arg: &str) -> String {
    let output = tokio::process::Command::new(program)
        .arg(arg)
        .output()
        .await;
    output
        .ok()
        .and_then(|output| {
            let stdout = String::from_utf8_lossy(&output.stdout);
            stdout.lines().next().map(str::to_owned)
        })
        .unwrap_or_else(|| format!("{program}: unknown version"))
}

/// What the binary was built with, for the report's header.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug profile: NOT representative"
    } else {
        "optimized `bench` profile (release settings)"
    }
}
