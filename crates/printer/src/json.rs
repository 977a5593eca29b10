//! The JSON renderer: a report as the README's JSON section documents it, the findings'
//! own serialization (every report carries `schema_version`). What `--json` prints and what
//! `hunt` writes to `report.json` are the same bytes, so `compare` reads either.

use serde::Serialize;

/// The report as pretty JSON, newline-terminated. For [`leakhunt_findings::LeakReport`],
/// [`leakhunt_findings::HuntReport`], [`leakhunt_findings::Comparison`],
/// [`leakhunt_findings::RetainersReport`] (and the other reports of the findings crate).
pub fn render<T: Serialize>(report: &T) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("findings serialize (no maps with non-string keys)");
    text.push('\n');
    text
}
