//! The printer: renders leakhunt's findings (`leakhunt-findings`) for people and tools.
//! The analyses hand over plain data; everything a person reads (sizes, sentences, paths,
//! colors) is made here, once, and shared by every format.
//!
//! - [`terminal`], [`json`]: one renderer per format, each for every report;
//! - [`prose`]: explanations and fixes from a suspect's facts; [`setup`]: what ran, the
//!   verdict and the growth in words; [`rules`]: what each pattern means in general;
//! - [`path`]: retainer paths as lines, long chains folded;
//! - [`bytes`], [`table`], [`style`]: sizes, aligned columns, color (`NO_COLOR`, terminals);
//! - the file formats, each taking a [`Findings`]: [`markdown`], [`html`] (with [`svg`]
//!   charts and [`sources`] excerpts), [`sarif`], [`github`] annotations.

pub mod bytes;
pub mod document;
pub mod github;
pub mod html;
pub mod json;
pub mod library_prose;
pub mod markdown;
pub mod path;
pub mod prose;
pub mod rules;
pub mod sarif;
pub mod setup;
pub mod sources;
pub mod spans;
pub mod stacks;
pub mod style;
pub mod svg;
pub mod table;
pub mod terminal;

pub use bytes::{format_bytes, format_bytes_delta, format_count, parse_bytes};
pub use document::Findings;
pub use style::Style;
pub use table::{Align, Table};
