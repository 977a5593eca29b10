//! How leakhunt shows things to people: byte sizes, aligned tables, color that respects
//! `NO_COLOR` and non-terminals. Machine output (JSON) is serialized by the callers' own
//! types; this crate is only about text for humans.

pub mod bytes;
pub mod style;
pub mod table;

pub use bytes::{format_bytes, format_bytes_delta, format_count, parse_bytes};
pub use style::Style;
pub use table::{Align, Table};
