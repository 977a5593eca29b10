//! Damaged snapshots through every command that reads them. Mutants of a real ladder (three
//! snapshots of a leaking Node process) are generated from a seed: truncated, bytes flipped,
//! sections reordered or doubled, counts made huge, unknown types, bad UTF-8 and escapes,
//! numbers out of range, gzip damaged, data after the end. Each goes through `summary`,
//! `retainers --class`/`--id`, `diff` and `leaks`, in the place of the snapshot it was made
//! from. An oracle written from the format's description, not from the reader, says which
//! mutants are still valid snapshots. Then: bad input exits 2 with one line naming the file;
//! valid input exits 0 or 1 (or 2 with one line, for a class or id the mutation removed); no
//! run panics, hangs, dies of a signal or uses memory out of proportion to its input.
//!
//! `LEAKHUNT_MUTANTS=10000 cargo nextest run -E 'test(many_mutants)' --run-ignored all
//! --no-capture` runs any number and prints the tally.

mod check;
mod ladder;
mod mutate;
mod named_faults;
mod oracle;
mod run;

use std::time::Duration;

use crate::support::*;
use check::*;
use ladder::*;
use mutate::*;
use oracle::*;
use run::*;

/// A run that takes longer than this hangs (a normal one takes a fraction of a second).
const DEADLINE: Duration = Duration::from_secs(120);
/// Address space each run may use: a few times what reading these files needs, far below
/// what a header's claims would reserve if believed (tens of GiB).
const ADDRESS_SPACE: u64 = 1 << 30;

/// The suite's sweep: 12 mutants of each kind, in four parts that run in parallel (each
/// part has every kind three times, on each of the three snapshots).
const PARTS: usize = 4;
const PER_PART: usize = KINDS * 12 / PARTS;

/// Part `p` of the sweep. Both verdicts must be well represented in each part (a quarter
/// of what the whole sweep asked, rounded up), or the oracle (or the mutations) went wrong.
fn sweep_part(p: usize) {
    let t = run_mutants(p * PER_PART..(p + 1) * PER_PART);
    let count = |v: &str| t.by_verdict.get(v).copied().unwrap_or(0);
    assert!(count("Valid") >= 5, "{:?}", t.by_verdict);
    assert!(count("Invalid") >= 38, "{:?}", t.by_verdict);
    assert_clean(&t);
}

#[test]
fn mutated_snapshots_through_every_command_part_1() {
    sweep_part(0);
}

#[test]
fn mutated_snapshots_through_every_command_part_2() {
    sweep_part(1);
}

#[test]
fn mutated_snapshots_through_every_command_part_3() {
    sweep_part(2);
}

#[test]
fn mutated_snapshots_through_every_command_part_4() {
    sweep_part(3);
}

/// `LEAKHUNT_MUTANTS=N` mutants (default 10,000): the acceptance run.
#[test]
#[ignore = "long: run with LEAKHUNT_MUTANTS=N and --run-ignored"]
fn many_mutants() {
    let count = std::env::var("LEAKHUNT_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    assert_clean(&run_mutants(0..count));
}
