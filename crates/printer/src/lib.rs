//! The printer: renders leakhunt's findings (`leakhunt-findings`) for people and tools.
//! The analyses hand over plain data; everything a person reads (sizes, sentences, paths,
//! colors) is made here, once, and shared by every format.
//!
//! - [`prose`]: explanations and fixes from a suspect's facts;
//! - [`path`]: retainer paths as lines, long chains folded;
//! - [`bytes`], [`table`], [`style`]: sizes, aligned columns, color (`NO_COLOR`, terminals);
//! - [`terminal_summary`], [`terminal_diff`]: `summary` and `diff` as terminal text.

pub mod bytes;
pub mod path;
pub mod prose;
pub mod style;
pub mod table;
pub mod terminal_diff;
pub mod terminal_summary;

pub use bytes::{format_bytes, format_bytes_delta, format_count, parse_bytes};
pub use style::Style;
pub use table::{Align, Table};
