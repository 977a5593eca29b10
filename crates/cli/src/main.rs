//! The `leakhunt` command line: argument parsing, exit codes and error printing. Each
//! subcommand lives in `commands/`; the work itself is in the library crates.

mod cli;
mod commands;
mod examples;
mod load;
mod output;
mod progress;
mod reports;

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
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return usage_error(e),
    };
    let result = commands::run(args);
    // A Ctrl-C being handled ends the process (130) once the service is stopped; an error
    // that stopping caused must not end it first.
    leakhunt_inspector::await_interrupt();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // `{:#}`: the context chain on one line. Library errors carry their whole message
            // and no `source()` that repeats it, so each part is said once.
            eprintln!("leakhunt: error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Bad usage on one line, like every other error: clap's message, its tips, and where to
/// read more. Help and version go out as clap prints them.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    eprintln!(
        "leakhunt: error: {}",
        one_line_usage_error(&e.render().to_string())
    );
    ExitCode::from(EXIT_ERROR)
}

/// clap's rendering (`error: …` and indented details, blank line, `tip: …`, `Usage: …`,
/// `For more information, try '--help'.`) as one line.
fn one_line_usage_error(rendered: &str) -> String {
    let (first, rest) = rendered.split_once("\n\n").unwrap_or((rendered, ""));
    let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut line = first.strip_prefix("error: ").unwrap_or(&first).to_string();
    for tip in rest
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("tip: "))
    {
        line.push_str(&format!(" ({tip})"));
    }
    line.push_str("; see --help");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_fit_on_one_line() {
        let rendered = "error: unexpected argument '--iteration' found\n\n  tip: a similar argument exists: '--iterations'\n\nUsage: leakhunt hunt --iterations <N>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_usage_error(rendered),
            "unexpected argument '--iteration' found (tip: a similar argument exists: '--iterations'); see --help"
        );
        let rendered = "error: the following required arguments were not provided:\n  <FILE>\n\nUsage: leakhunt summary <FILE>\n";
        assert_eq!(
            one_line_usage_error(rendered),
            "the following required arguments were not provided: <FILE>; see --help"
        );
    }
}
