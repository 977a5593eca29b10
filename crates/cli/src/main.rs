//! The `leakhunt` command line: argument parsing, exit codes and error printing. Each
//! subcommand lives in `commands/`; the work itself is in the library crates.

mod cli;
mod commands;
mod load;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

// Large analyses are bound by page faults and TLB misses on their big arrays.
#[global_allocator]
static ALLOCATOR: leakhunt_engine::huge_pages::HugePages = leakhunt_engine::huge_pages::HugePages;

/// Exit codes: 0 clean, 1 a leak (or threshold) was found, 2 bad usage or input.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_LEAK: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    // Started as the guardian of a service leakhunt launches (a hidden argument): guard it
    // and exit here. Before anything else, while this process is a single thread.
    leakhunt_inspector::run_guardian_if_requested();
    let args = cli::Cli::parse();
    let result = commands::run(args);
    // A Ctrl-C being handled ends the process (130) once the service is stopped; an error
    // that stopping caused must not end it first.
    leakhunt_inspector::await_interrupt();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // `| head` closing the pipe is not an error worth reporting.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(EXIT_CLEAN);
            }
            eprintln!("leakhunt: error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
