//! Command-line interface definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::examples;

#[derive(Parser, Debug)]
#[command(
    name = "leakhunt",
    version,
    about = "Find, explain and prevent memory leaks in Node.js and Bun services",
    long_about = None,
    propagate_version = true,
    after_help = examples::LEAKHUNT
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Per-class counts, shallow and retained sizes of one heap snapshot
    #[command(after_help = examples::SUMMARY)]
    Summary(SummaryArgs),
    /// Shortest paths from the GC roots that keep an object alive
    #[command(after_help = examples::RETAINERS)]
    Retainers(RetainersArgs),
    /// Compare two snapshots of one process, as DevTools' Comparison view does
    #[command(after_help = examples::DIFF)]
    Diff(DiffArgs),
    /// Diagnose leaks from 3+ snapshots of one process taken after equal amounts of work
    #[command(after_help = examples::LEAKS)]
    Leaks(LeaksArgs),
    /// Run a service, drive load, snapshot between rounds and diagnose, in one go
    #[command(after_help = examples::HUNT)]
    Hunt(Box<HuntArgs>),
    /// Take one heap snapshot of a running Node process over its inspector
    #[command(after_help = examples::SNAPSHOT)]
    Snapshot(SnapshotArgs),
    /// Compare two hunt reports (before and after a fix)
    #[command(after_help = examples::COMPARE)]
    Compare(CompareArgs),
    /// Hunt the bundled example service, then its fixed twin (needs only `node` on PATH)
    #[command(after_help = examples::DEMO)]
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of leakhunt or of one of its commands
    #[command(after_help = examples::MAN)]
    Man(ManArgs),
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// A command (e.g. hunt) for its own page, leakhunt-COMMAND(1); none for leakhunt(1)
    pub command: Option<String>,
}

/// Report files, written beside the terminal output and `--json`, in any combination. On
/// GitHub Actions (`GITHUB_ACTIONS=true`) the suspects also become annotations and the
/// Markdown goes to the step summary.
#[derive(Args, Debug, Default, Clone)]
#[command(next_help_heading = "Report files")]
pub struct ReportFiles {
    /// Write a self-contained HTML report (charts, paths, source lines) to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write a Markdown report (a PR comment, a step summary) to FILE
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a SARIF 2.1.0 log (for code scanning) to FILE
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// How to reach a Node process that is already running.
#[derive(Args, Debug, Default)]
pub struct AttachArgs {
    /// Its inspector's WebSocket URL (ws://127.0.0.1:PORT/ID; loopback only)
    #[arg(long, value_name = "URL", conflicts_with_all = ["inspect_port", "pid"])]
    pub inspect_url: Option<String>,
    /// The loopback port its inspector listens on (reads /json/list)
    #[arg(long, value_name = "PORT", conflicts_with = "pid")]
    pub inspect_port: Option<u16>,
    /// Its process id: the inspector is turned on with SIGUSR1 (port 9229)
    #[arg(long)]
    pub pid: Option<u32>,
}

#[derive(Args, Debug)]
pub struct HuntArgs {
    /// Load scenario (TOML; see the README)
    #[arg(long, short = 's', value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// A request as a one-liner, e.g. 'POST /api/login {"email":"u{{i}}@x.com"}' (repeatable);
    /// {{i}} numbers the users of a round (the same each round), {{seq}} never repeats
    #[arg(long = "request", value_name = "REQUEST")]
    pub requests: Vec<String>,
    /// Iterations per round, at least 1 (default: the scenario's, or 1000)
    #[arg(long, value_name = "N", value_parser = parse_iterations)]
    pub iterations: Option<u64>,
    /// Virtual users running at once, 1 to 1024 (default: the scenario's, or 4)
    #[arg(long, value_name = "N", value_parser = parse_concurrency)]
    pub concurrency: Option<usize>,
    /// Each virtual user keeps its connection open across rounds (HTTP keep-alive), so
    /// state a service ties to a connection can pile up (default: the scenario's
    /// keep_alive, or a fresh connection per user each round)
    #[arg(long)]
    pub keep_alive: bool,
    /// Longest a request may take, e.g. 5s or 500ms (default: the scenario's timeout, or
    /// 10s); a request past it is closed and counted as timed out (event streams, long polls)
    #[arg(long, value_name = "DURATION", value_parser = leakhunt_load::parse_duration)]
    pub request_timeout: Option<std::time::Duration>,
    /// Where requests go (default: the scenario's base_url, or http://127.0.0.1:$PORT)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Rounds of load after the warm-up, at least 2; a snapshot follows the warm-up and
    /// each round
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = parse_rounds)]
    pub rounds: usize,
    /// Iterations of the warm-up round (default: one full round)
    #[arg(long, value_name = "N")]
    pub warmup: Option<u64>,
    /// Folder for snapshots and report (default .leakhunt/<timestamp>/); one holding an
    /// earlier hunt's results is refused, never overwritten
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// CI gate: exit 1 when the heap grows more than this per iteration (e.g. 2KB), or a
    /// suspect is found
    #[arg(
        long = "max-growth-per-iteration",
        alias = "max-growth",
        value_name = "BYTES",
        value_parser = parse_size
    )]
    pub max_growth: Option<u64>,
    /// Ignore suspects growing less than this many bytes per round
    #[arg(
        long = "min-growth-per-round",
        alias = "min-growth",
        value_name = "BYTES",
        default_value = "1KB",
        value_parser = parse_size
    )]
    pub min_growth: u64,
    /// A previous report (--json) to compare with: what the fix changed
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Seconds to wait for a started service to accept connections
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub ready_timeout: u64,
    /// Do not record where objects are allocated (V8's allocation tracking, on by default
    /// during the last round; it slows the service down while it runs)
    #[arg(long)]
    pub no_allocation_stacks: bool,
    #[command(flatten)]
    pub attach: AttachArgs,
    #[command(flatten)]
    pub reports: ReportFiles,
    /// The command that starts the service, after `--` (it gets a free port in $PORT)
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub attach: AttachArgs,
    /// The file to write (mode 0600: heaps hold secrets); with --count, FILE's name gets
    /// -1, -2, … before its extension
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Take N snapshots in one inspector session, so that `leakhunt leaks` can compare
    /// them (V8 renumbers its objects when a session ends)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_snapshot_count)]
    pub count: u64,
    /// Time between the snapshots of --count, e.g. 30s or 2m (run the same load in each)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = leakhunt_load::parse_duration)]
    pub every: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The report before the fix (`hunt --json`)
    pub before: PathBuf,
    /// The report after the fix
    pub after: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub reports: ReportFiles,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier snapshot
    pub base: PathBuf,
    /// The later snapshot of the same process
    pub after: PathBuf,
    /// Show the N classes with the largest size delta (0 = all)
    #[arg(long, default_value_t = 25)]
    pub top: usize,
    /// Only this class, with its largest new objects
    #[arg(long)]
    pub class: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct LeaksArgs {
    /// Snapshots, oldest first (at least 3), each after the same amount of work
    #[arg(required = true, num_args = 3..)]
    pub snapshots: Vec<PathBuf>,
    /// Ignore growth below this many bytes per step (e.g. 1KB, 64KiB)
    #[arg(long, default_value = "1KB", value_parser = parse_size)]
    pub min_growth: u64,
    /// Show at most N suspects
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub reports: ReportFiles,
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    leakhunt_printer::parse_bytes(s)
}

fn parse_iterations(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1: rounds of no iterations measure nothing".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    let max = leakhunt_load::MAX_CONCURRENCY;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "must be from 1 to {max} (each virtual user is a thread with its own connection)"
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_snapshot_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_rounds(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 2 => Ok(n),
        Ok(_) => Err("must be at least 2: growth must show at every step".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Write the example, its snapshots and reports into DIR and keep them there (by default
    /// they go to a temporary folder that is removed at the end)
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Heap snapshot (.heapsnapshot, optionally .gz; `-` reads stdin)
    pub file: PathBuf,
    /// Show the N largest classes (0 = all)
    #[arg(long, default_value_t = 25)]
    pub top: usize,
    /// Order of the rows
    #[arg(long, value_enum, default_value_t = SortArg::Retained)]
    pub sort: SortArg,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    Retained,
    Shallow,
    Count,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["id", "class"])))]
pub struct RetainersArgs {
    /// Heap snapshot (.heapsnapshot, optionally .gz; `-` reads stdin)
    pub file: PathBuf,
    /// The object's node id (the `@123` DevTools shows)
    #[arg(long)]
    pub id: Option<u32>,
    /// A class name: paths to its largest instances
    #[arg(long)]
    pub class: Option<String>,
    /// How many paths to show
    #[arg(long, default_value_t = 3)]
    pub paths: usize,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    fn hunt(args: &[&str]) -> HuntArgs {
        let mut all = vec!["leakhunt", "hunt"];
        all.extend(args);
        all.extend(["--", "node", "server.js"]);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Hunt(h) => *h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn growth_flags_say_their_unit_and_the_old_spellings_still_work() {
        let h = hunt(&[
            "--min-growth-per-round",
            "2KB",
            "--max-growth-per-iteration",
            "300B",
        ]);
        assert_eq!((h.min_growth, h.max_growth), (2000, Some(300)));
        let h = hunt(&["--min-growth", "3KB", "--max-growth", "1KB"]);
        assert_eq!((h.min_growth, h.max_growth), (3000, Some(1000)));
        let help = Cli::command()
            .find_subcommand_mut("hunt")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("--max-growth-per-iteration"), "{help}");
        assert!(
            !help.contains("--max-growth <"),
            "old spelling hidden: {help}"
        );
    }
}
