//! The whole leak hunt in one call, as `leakhunt hunt` runs it: start (or attach to) a Node
//! service with its inspector on loopback, drive a load scenario in rounds, force garbage
//! collection and stream a heap snapshot after each round, and diagnose the ladder.
//!
//! - [`HuntConfig`] says what to run and how; [`hunt`] runs it and returns a [`HuntReport`]
//!   (the leak report plus heap sizes, growth per iteration and load figures).
//! - [`Observer`] receives [`HuntEvent`]s for progress displays.
//! - [`compare`] tells a fix's effect from two reports.
//!
//! Snapshots stream from the inspector to disk (temporary name, mode 0600, renamed when
//! complete) and into the parser at the same time; an earlier snapshot's measures are taken
//! while the next round runs.

mod compare;
mod config;
mod events;
mod memory;
mod out_dir;
mod report;
mod run;
mod service;
mod stream;
mod tracking;

pub use compare::compare;
pub use config::{HuntConfig, TargetSpec};
pub use events::{HuntEvent, Observer};
pub use leakhunt_findings::{Change, ComparedSuspect, Comparison, RoundLoad};
pub use out_dir::{create_timestamped as create_out_dir, OutDirError};
pub use report::{GrowthFigure, GrowthGate, HuntReport, MemoryAfterGc, ScenarioInfo};
pub use run::{hunt, write_report, HuntError};
