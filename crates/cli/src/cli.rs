//! Command-line interface definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "leakhunt",
    version,
    about = "Find, explain and prevent memory leaks in Node.js and Bun services",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Per-class counts, shallow and retained sizes of one heap snapshot
    Summary(SummaryArgs),
    /// Shortest paths from the GC roots that keep an object alive
    Retainers(RetainersArgs),
    /// Compare two snapshots of one process, as DevTools' Comparison view does
    Diff(DiffArgs),
    /// Diagnose leaks from 3+ snapshots of one process taken after equal amounts of work
    Leaks(LeaksArgs),
    /// Run the bundled example (needs only `node` on PATH) and explain its leak
    Demo(DemoArgs),
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
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    leakhunt_report::parse_bytes(s)
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the example's files and snapshot in this folder instead of a temporary one
    #[arg(long)]
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
}
