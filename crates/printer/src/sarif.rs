//! SARIF 2.1.0, the format code scanning tools read (GitHub's code scanning, IDE viewers):
//! one result per suspect, its rule the suspect's pattern (`tool.driver.rules` holds every
//! pattern with its help), its message the explanation and the fix, its location the file,
//! line and column, and the other places its retainer path passes through as related
//! locations. Valid against the official schema (a test checks).
//!
//! Paths under the working directory are relative URIs against `%SRCROOT%`, which
//! `originalUriBaseIds` sets to that directory, so the report stays meaningful when the
//! checkout moves; others are `file://` URIs.

use std::path::Path;

use leakhunt_findings::{Pattern, SourceLocation, Suspect};
use serde_json::{json, Map, Value};

use crate::document::Findings;
use crate::markdown::prose_md;
use crate::path::{edge_label, object_label};
use crate::spans::plain;
use crate::{prose, rules, setup, sources};

const SRCROOT: &str = "%SRCROOT%";

/// At most this many related locations per result: the path's first user-code places.
const MAX_RELATED: usize = 10;

/// The SARIF log, pretty-printed. `cwd`: the directory the findings' relative paths start
/// from.
pub fn render(f: &Findings, cwd: &Path) -> String {
    let mut text = serde_json::to_string_pretty(&log(f, cwd)).expect("JSON values serialize");
    text.push('\n');
    text
}

/// The SARIF log as a JSON value.
pub fn log(f: &Findings, cwd: &Path) -> Value {
    let results: Vec<Value> = f.leaks().suspects.iter().map(|s| result(s, cwd)).collect();
    let rules: Vec<Value> = Pattern::ALL.iter().map(|&p| rule(p)).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "leakhunt",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": { SRCROOT: { "uri": dir_uri(cwd) } },
            // V8 and source maps count columns in UTF-16 code units.
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    })
}

fn rule(p: Pattern) -> Value {
    let help = rules::help(p);
    json!({
        "id": p.id(),
        "name": rules::name(p),
        "shortDescription": { "text": rules::title(p) },
        "fullDescription": { "text": plain(help) },
        "help": { "text": plain(help), "markdown": help },
        "defaultConfiguration": { "level": "error" },
        "properties": { "tags": ["memory-leak", "reliability"] },
    })
}

fn rule_index(p: Pattern) -> usize {
    Pattern::ALL.iter().position(|&q| q == p).unwrap_or(0)
}

fn result(s: &Suspect, cwd: &Path) -> Value {
    let explanation = prose::explanation(s);
    let fix = prose::fix(s);
    let mut r = json!({
        "ruleId": s.pattern.id(),
        "ruleIndex": rule_index(s.pattern),
        "level": "error",
        "message": {
            "text": format!("{} Fix: {}", plain(&explanation), plain(&fix)),
            "markdown": format!("{} **Fix:** {}", prose_md(&explanation), prose_md(&fix)),
        },
        "properties": {
            "class": s.class,
            "growth": setup::growth(s),
            "countPerStep": s.count_per_step,
            "countUnit": prose::unit(s.count_unit),
            "bytesPerStep": s.bytes_per_step,
            "retainedBytes": s.retained_bytes,
        },
    });
    let fields = r.as_object_mut().expect("an object");
    if let Some(l) = &s.location {
        fields.insert("locations".into(), json!([location(l, cwd)]));
    }
    let related = related(s, cwd);
    if !related.is_empty() {
        fields.insert("relatedLocations".into(), Value::Array(related));
    }
    r
}

/// A SARIF location: the file, and the line and column when known.
fn location(l: &SourceLocation, cwd: &Path) -> Value {
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), artifact(&l.file, cwd));
    if l.line >= 1 {
        let mut region = json!({ "startLine": l.line });
        if l.column >= 1 {
            region["startColumn"] = json!(l.column);
        }
        physical.insert("region".into(), region);
    }
    let mut loc = json!({ "physicalLocation": physical });
    if let Some(f) = l.function.as_deref().filter(|f| !f.is_empty()) {
        loc["logicalLocations"] = json!([{ "name": f, "kind": "function" }]);
    }
    loc
}

/// The places on the retainer path in the program's own code, other than the suspect's
/// location: the leaked object's function and each holder's.
fn related(s: &Suspect, cwd: &Path) -> Vec<Value> {
    let object = s
        .path
        .object
        .location
        .as_ref()
        .map(|l| (l, object_label(&s.path.object)));
    let holders = s.path.steps.iter().filter_map(|step| {
        step.location.as_ref().map(|l| {
            (
                l,
                format!("{} in {}", edge_label(step), object_label(&step.holder())),
            )
        })
    });
    let mut seen: Vec<&SourceLocation> = s.location.iter().collect();
    let mut out = Vec::new();
    for (l, what) in object.into_iter().chain(holders) {
        if l.is_runtime() || seen.contains(&l) {
            continue;
        }
        seen.push(l);
        let mut loc = location(l, cwd);
        loc["id"] = json!(out.len());
        loc["message"] = json!({ "text": what });
        out.push(loc);
        if out.len() == MAX_RELATED {
            break;
        }
    }
    out
}

/// `{uri, uriBaseId}` relative to the working directory when the file is inside it; an
/// absolute `file://` URI otherwise; runtime modules (`node:events`) and URLs as they are.
fn artifact(file: &str, cwd: &Path) -> Value {
    if let Some(rel) = sources::relative_to(cwd, file, cwd) {
        return json!({ "uri": encode(&rel), "uriBaseId": SRCROOT });
    }
    match sources::local_path(cwd, file) {
        Some(abs) => json!({ "uri": file_uri(&abs.to_string_lossy(), false) }),
        None => json!({ "uri": file }),
    }
}

/// `file:///work/app/`: a folder's URI ends with `/` so relative URIs resolve inside it.
fn dir_uri(dir: &Path) -> String {
    file_uri(&dir.to_string_lossy(), true)
}

fn file_uri(path: &str, folder: bool) -> String {
    let path = path.replace('\\', "/");
    let lead = if path.starts_with('/') { "" } else { "/" };
    let tail = if folder && !path.ends_with('/') {
        "/"
    } else {
        ""
    };
    format!("file://{lead}{}{tail}", encode(&path))
}

/// Percent-encodes everything but unreserved characters and `/` (RFC 3986).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_under_the_working_directory_are_relative() {
        let cwd = Path::new("/w/app");
        assert_eq!(
            artifact("src/a b.js", cwd),
            json!({"uri": "src/a%20b.js", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact("/opt/lib/x.js", cwd),
            json!({"uri": "file:///opt/lib/x.js"})
        );
        assert_eq!(artifact("node:events", cwd), json!({"uri": "node:events"}));
        assert_eq!(dir_uri(cwd), "file:///w/app/");
    }
}
