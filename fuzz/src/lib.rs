//! What the fuzz target checks, kept in its own file so the regression test in the
//! workspace (crates/cli/tests/integration/fuzz_regressions.rs) runs the same code.

mod check;

pub use check::check;
