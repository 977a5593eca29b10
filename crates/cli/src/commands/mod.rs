//! One module per subcommand.

mod compare;
mod completions;
mod demo;
mod diff;
mod hunt;
mod leaks;
mod retainers;
mod snapshot;
mod summary;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Summary(args) => summary::run(&args),
        Command::Retainers(args) => retainers::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Hunt(args) => hunt::run(&args),
        Command::Snapshot(args) => snapshot::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Leaks(args) => leaks::run(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    }
}
