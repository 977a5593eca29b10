//! What a hunt runs and how.

use std::path::PathBuf;
use std::time::Duration;

use leakhunt_diagnosis::LeakOptions;
use leakhunt_load::Scenario;

/// Where the service comes from.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// Start this command (`node server.js`, `npm start` …) with the inspector on; it gets
    /// a free port in the `PORT` environment variable, unless the user set `PORT` (in
    /// leakhunt's environment, or with an `env PORT=… ` prefix).
    Launch {
        command: Vec<String>,
        cwd: Option<PathBuf>,
    },
    /// Attach to a running inspector (`ws://127.0.0.1:…`).
    Url(String),
    /// Attach to the inspector listening on this loopback port.
    Port(u16),
    /// Turn on the inspector of this Node process (SIGUSR1) and attach.
    Pid(u32),
}

#[derive(Debug, Clone)]
pub struct HuntConfig {
    pub target: TargetSpec,
    pub scenario: Scenario,
    /// Describes the scenario in the report (`scenario.toml`, or the one-liners).
    pub scenario_source: String,
    /// Where requests go; default the scenario's `base_url`, else the launched service's
    /// `http://127.0.0.1:$PORT`.
    pub base_url: Option<String>,
    /// Snapshots to take (at least 3): one after the warm-up, one after each further round.
    pub snapshots: usize,
    /// Iterations of the warm-up round (default: one full round).
    pub warmup_iterations: Option<u64>,
    /// Folder for the snapshots and the report.
    pub out_dir: PathBuf,
    pub leak_options: LeakOptions,
    /// How long to wait for a launched service to accept connections.
    pub ready_timeout: Duration,
    /// Record where objects are allocated (V8's allocation tracking, on during the last
    /// round), so suspects show the stacks that created them.
    pub allocation_stacks: bool,
}

impl HuntConfig {
    pub fn new(target: TargetSpec, scenario: Scenario, out_dir: PathBuf) -> HuntConfig {
        HuntConfig {
            target,
            scenario,
            scenario_source: String::new(),
            base_url: None,
            snapshots: 3,
            warmup_iterations: None,
            out_dir,
            leak_options: LeakOptions::default(),
            ready_timeout: Duration::from_secs(30),
            allocation_stacks: true,
        }
    }
}
