//! Writing results to stdout.
//!
//! A reader that went away (`leakhunt leaks … | head -3`, after head exited) is not an error:
//! the rest of the output is simply not wanted, and the command's exit code, which carries
//! the verdict (1 for a leak), must still come out. So a broken pipe ends the writing
//! quietly and the command goes on to return its verdict.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// A report as JSON on stdout (the printer's JSON renderer).
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    write_stdout(leakhunt_printer::json::render(value).as_bytes())
}

pub fn print_text(text: &str) -> Result<()> {
    write_stdout(text.as_bytes())
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}
