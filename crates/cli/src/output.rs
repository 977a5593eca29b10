//! Writing results to stdout.
//!
//! A reader that went away (`leakhunt leaks … | head -3`, after head exited) is not an error:
//! the rest of the output is simply not wanted, and the command's exit code, which carries
//! the verdict (1 for a leak), must still come out. So a broken pipe ends the writing
//! quietly and the command goes on to return its verdict.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// Pretty JSON on stdout, newline-terminated.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    write_stdout(&text)
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
