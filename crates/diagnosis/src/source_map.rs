//! Source maps: from a position in the JavaScript that runs (compiled TypeScript, a bundle)
//! back to the line a person wrote.
//!
//! A map is found the way runtimes and debuggers find it: the script's last
//! `//# sourceMappingURL=` comment, either an inline `data:` URL (base64 JSON) or a file next
//! to the script; the inspector can also name it (`Debugger.scriptParsed.sourceMapURL`).
//! Only what is needed to look positions up is decoded: the `mappings` VLQ segments, by line.
//!
//! Two shapes beyond a plain map are followed, as bundlers write them:
//! - index maps (`sections`: maps placed at line/column offsets of the generated file, from
//!   concatenating already-mapped files);
//! - chains: a bundle's map points into compiled files (`dist/a.js`) that have maps of their
//!   own (to `src/a.ts`); the lookup goes on through each file's map until a file has none.
//!
//! Why a decoder of our own rather than the `sourcemap` crate: that crate brings some thirty
//! crates (Unicode normalization tables, bit vectors, UUIDs) into the build for what is here
//! one VLQ loop, one binary search per lookup and a section search; and the part that is
//! leakhunt's own (finding maps next to scripts, `sources` relative to the map, chains through
//! files on disk) would be needed on top of it anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::leaks::source::{read_regular_file, MAX_SOURCE};

/// Source maps larger than this are not read: a map is a few times its bundle's size, so
/// this allows bundles up to the script limit; the map file is named by a script the
/// snapshot names, and is read whole.
const MAX_SOURCE_MAP: u64 = 4 * MAX_SOURCE;

/// One mapping: generated column, source index, source line, source column, name index
/// (all 0-based).
type Segment = (u32, u32, u32, u32, Option<u32>);

/// How many maps a chain may go through (a bundle of compiled files is two); it also ends
/// a map that names its own script as a source.
const MAX_CHAIN: usize = 4;

/// One decoded map: for each generated line, segments sorted by column; or, for an index
/// map, its sections.
pub struct SourceMap {
    sources: Vec<String>,
    names: Vec<String>,
    lines: Vec<Vec<Segment>>,
    /// An index map's sections: (0-based line, column) where each starts, in order.
    sections: Vec<(u32, u32, SourceMap)>,
}

/// A position in an original source, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalPosition {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub name: Option<String>,
}

fn vlq_values(segment: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    let (mut value, mut shift) = (0i64, 0u32);
    for c in segment.bytes() {
        let digit = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as i64;
        value += (digit & 31) << shift;
        if digit & 32 != 0 {
            shift += 5;
            if shift > 60 {
                return None;
            }
        } else {
            let v = if value & 1 == 1 {
                -(value >> 1)
            } else {
                value >> 1
            };
            out.push(v);
            value = 0;
            shift = 0;
        }
    }
    Some(out)
}

impl SourceMap {
    /// Parses a map's JSON; `base` is the folder its relative `sources` are relative to.
    pub fn parse(json: &str, base: Option<&Path>) -> Option<SourceMap> {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        match v["sections"].as_array() {
            Some(sections) => SourceMap::parse_index(sections, base),
            None => SourceMap::parse_value(&v, base),
        }
    }

    /// An index map: each section's map (itself a plain map, as the format requires) at its
    /// offset. Sections must come in order and not overlap; a map breaking that is not used.
    fn parse_index(sections: &[serde_json::Value], base: Option<&Path>) -> Option<SourceMap> {
        let mut parsed = Vec::with_capacity(sections.len());
        for section in sections {
            let offset = &section["offset"];
            let line = u32::try_from(offset["line"].as_u64()?).ok()?;
            let column = u32::try_from(offset["column"].as_u64()?).ok()?;
            if parsed
                .last()
                .is_some_and(|&(l, c, _)| (line, column) < (l, c))
            {
                return None;
            }
            parsed.push((line, column, SourceMap::parse_value(&section["map"], base)?));
        }
        Some(SourceMap {
            sources: Vec::new(),
            names: Vec::new(),
            lines: Vec::new(),
            sections: parsed,
        })
    }

    fn parse_value(v: &serde_json::Value, base: Option<&Path>) -> Option<SourceMap> {
        let root = v["sourceRoot"].as_str().unwrap_or("");
        let sources = v["sources"]
            .as_array()?
            .iter()
            .map(|s| {
                let s = s.as_str().unwrap_or("");
                let joined = if root.is_empty() {
                    s.to_string()
                } else {
                    format!("{}/{s}", root.trim_end_matches('/'))
                };
                // Bundlers name variants of one file with a query (Vite's
                // `index.tsx?tss-serverfn-split`); the file is the part before it.
                let joined = match joined.split_once('?') {
                    Some((file, _)) if !joined.contains("://") && !file.is_empty() => {
                        file.to_string()
                    }
                    _ => joined,
                };
                match (base, joined.strip_prefix("file://")) {
                    (_, Some(abs)) => abs.to_string(),
                    (Some(b), None)
                        if !joined.contains("://") && !Path::new(&joined).is_absolute() =>
                    {
                        normalize(&b.join(&joined)).display().to_string()
                    }
                    _ => joined,
                }
            })
            .collect();
        let names = v["names"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| n.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let mappings = v["mappings"].as_str()?;
        let mut lines = Vec::new();
        let (mut src, mut src_line, mut src_col, mut name) = (0i64, 0i64, 0i64, 0i64);
        for line in mappings.split(';') {
            let mut segs = Vec::new();
            let mut col = 0i64;
            for seg in line.split(',').filter(|s| !s.is_empty()) {
                let f = vlq_values(seg)?;
                col += f[0];
                if f.len() >= 4 {
                    src += f[1];
                    src_line += f[2];
                    src_col += f[3];
                    let n = if f.len() >= 5 {
                        name += f[4];
                        Some(name as u32)
                    } else {
                        None
                    };
                    segs.push((col as u32, src as u32, src_line as u32, src_col as u32, n));
                }
            }
            segs.sort_by_key(|s| s.0);
            lines.push(segs);
        }
        Some(SourceMap {
            sources,
            names,
            lines,
            sections: Vec::new(),
        })
    }

    /// Whether the map maps nothing at all.
    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(Vec::is_empty) && self.sections.iter().all(|(_, _, m)| m.is_empty())
    }

    /// The original position of a generated 1-based `line:column`: the mapping at or before
    /// the column on that line.
    pub fn lookup(&self, line: u32, column: u32) -> Option<OriginalPosition> {
        if !self.sections.is_empty() {
            // The last section starting at or before the position; positions in it are
            // relative to its start (columns only on its first line).
            let (line0, column0) = (line.checked_sub(1)?, column.saturating_sub(1));
            let i = self
                .sections
                .partition_point(|&(l, c, _)| (l, c) <= (line0, column0));
            let (l, c, map) = self.sections.get(i.checked_sub(1)?)?;
            let column0 = if line0 == *l { column0 - c } else { column0 };
            return map.lookup(line0 - l + 1, column0 + 1);
        }
        let segs = self.lines.get(line.checked_sub(1)? as usize)?;
        let col = column.saturating_sub(1);
        let i = segs.partition_point(|s| s.0 <= col);
        let s = if i > 0 { segs[i - 1] } else { *segs.first()? };
        Some(OriginalPosition {
            file: self.sources.get(s.1 as usize)?.clone(),
            line: s.2 + 1,
            column: s.3 + 1,
            name: s.4.and_then(|n| self.names.get(n as usize).cloned()),
        })
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Maps found so far, by script, and maps announced by the inspector.
#[derive(Default)]
pub struct SourceMaps {
    maps: HashMap<String, Option<SourceMap>>,
    /// Script → the `sourceMapURL` the inspector reported for it.
    announced: HashMap<String, String>,
    /// One line per script whose map was found but could not place a position: the map is
    /// empty (a build step that strips mappings), or it has nothing for that line.
    warnings: Vec<MapWarning>,
    warned: std::collections::HashSet<String>,
}

/// A script whose source map was found but could not place a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapWarning {
    /// The script (as a path).
    pub script: String,
    /// The first line it had no mapping for; `None` when the map has no mappings at all.
    pub line: Option<u32>,
}

impl MapWarning {
    /// One line for people, with the script named by `display`.
    pub fn text(&self, display: impl Fn(&str) -> String) -> String {
        let script = display(&self.script);
        match self.line {
            None => format!(
                "the source map of {script} has no mappings (a build step emptied it?): its places are shown in the generated file"
            ),
            Some(line) => format!(
                "the source map of {script} has no mapping for line {line}: that place is shown in the generated file"
            ),
        }
    }
}

impl SourceMaps {
    pub fn new() -> SourceMaps {
        SourceMaps::default()
    }

    /// Records the source map URL the runtime reported for a script (`scriptParsed`).
    pub fn announce(&mut self, script: &str, source_map_url: &str) {
        if !source_map_url.is_empty() {
            self.announced
                .insert(script_path(script).to_string(), source_map_url.to_string());
        }
    }

    /// The original position for `file:line:column` of a script, if the script has a map;
    /// through a chain of maps (a bundle of compiled files) to the first file without one.
    pub fn original(&mut self, file: &str, line: u32, column: u32) -> Option<OriginalPosition> {
        let mut found = self.lookup_one(file, line, column)?;
        for _ in 1..MAX_CHAIN {
            let Some(next) = self.lookup_one(&found.file, found.line, found.column) else {
                break;
            };
            // A name is the identifier at the position; the earlier map may be the only
            // one that has it.
            let name = next.name.or(found.name);
            found = OriginalPosition { name, ..next };
        }
        Some(found)
    }

    /// The position one map away, if `file` has a map. A map that is there but has no
    /// mapping for the position is worth a warning: the place shown stays in the generated
    /// file, and the person reading it should know why.
    fn lookup_one(&mut self, file: &str, line: u32, column: u32) -> Option<OriginalPosition> {
        let path = script_path(file).to_string();
        if !self.maps.contains_key(&path) {
            let map = self.load(&path);
            self.maps.insert(path.clone(), map);
        }
        let map = self.maps.get(&path)?.as_ref()?;
        let found = map.lookup(line, column);
        if found.is_none() && self.warned.insert(path.clone()) {
            let line = (!map.is_empty()).then_some(line);
            self.warnings.push(MapWarning { script: path, line });
        }
        found
    }

    /// The warnings about maps that could not place a position (one per script), taken:
    /// a second call returns only newer ones.
    pub fn take_warnings(&mut self) -> Vec<MapWarning> {
        std::mem::take(&mut self.warnings)
    }

    fn load(&self, script: &str) -> Option<SourceMap> {
        let dir = Path::new(script).parent().map(Path::to_path_buf);
        let url = match self.announced.get(script) {
            Some(u) => u.clone(),
            None => {
                let text = read_regular_file(Path::new(script), MAX_SOURCE)?;
                text.lines().rev().take(8).find_map(|l| {
                    let l = l.trim();
                    l.strip_prefix("//# sourceMappingURL=")
                        .or_else(|| l.strip_prefix("//@ sourceMappingURL="))
                        .map(str::to_string)
                })?
            }
        };
        let json = if let Some(data) = url.strip_prefix("data:") {
            let (_, payload) = data.split_once(',')?;
            if data.split_once(',')?.0.ends_with(";base64") {
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(payload.trim())
                        .ok()?,
                )
                .ok()?
            } else {
                payload.to_string()
            }
        } else {
            let p = url
                .strip_prefix("file://")
                .map(PathBuf::from)
                .unwrap_or_else(|| match &dir {
                    Some(d) => d.join(&url),
                    None => PathBuf::from(&url),
                });
            read_regular_file(&p, MAX_SOURCE_MAP)?
        };
        SourceMap::parse(&json, dir.as_deref())
    }
}

/// A script URL as a file path (`file:///x.js` → `/x.js`).
fn script_path(script: &str) -> &str {
    script.strip_prefix("file://").unwrap_or(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_vlq() {
        assert_eq!(vlq_values("AAAA"), Some(vec![0, 0, 0, 0]));
        assert_eq!(vlq_values("AACA"), Some(vec![0, 0, 1, 0]));
        assert_eq!(vlq_values("gBAAD"), Some(vec![16, 0, 0, -1]));
    }

    #[test]
    fn looks_up_positions() {
        // Generated line 1 maps col 0 to src line 1 col 0, col 4 to src line 3 col 2 (name 0);
        // line 2 maps col 2 to src line 5 col 0.
        let json = r#"{"version":3,"sources":["app.ts"],"names":["handler"],"mappings":"AAAA,IAEEA;EAEF"}"#;
        let m = SourceMap::parse(json, Some(Path::new("/srv/src"))).unwrap();
        let p = m.lookup(1, 1).unwrap();
        assert_eq!(
            (p.file.as_str(), p.line, p.column),
            ("/srv/src/app.ts", 1, 1)
        );
        let p = m.lookup(1, 10).unwrap();
        assert_eq!(
            (p.line, p.column, p.name.as_deref()),
            (3, 3, Some("handler"))
        );
        let p = m.lookup(2, 5).unwrap();
        assert_eq!((p.line, p.column), (5, 1));
    }

    #[test]
    fn finds_inline_maps() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"{"version":3,"sources":["../src/a.ts"],"names":[],"mappings":"AAAA;AACA"}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let script = dir.path().join("a.js");
        std::fs::write(
            &script,
            format!("x();\ny();\n//# sourceMappingURL=data:application/json;base64,{b64}\n"),
        )
        .unwrap();
        let mut maps = SourceMaps::new();
        let p = maps.original(script.to_str().unwrap(), 2, 1).unwrap();
        assert!(p.file.ends_with("src/a.ts"), "{}", p.file);
        assert_eq!(p.line, 2);
    }

    #[test]
    fn looks_up_index_maps() {
        // Two sections: lines 1-2 from a.ts, then from line 3 column 4 on, b.ts (as bundlers
        // that concatenate already-mapped files write them).
        let json = r#"{"version":3,"sections":[
            {"offset":{"line":0,"column":0},"map":{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAAA;AACA"}},
            {"offset":{"line":2,"column":4},"map":{"version":3,"sources":["b.ts"],"names":["f"],"mappings":"AAEEA;EACA"}}
        ]}"#;
        let m = SourceMap::parse(json, Some(Path::new("/srv"))).unwrap();
        let p = m.lookup(2, 1).unwrap();
        assert_eq!((p.file.as_str(), p.line), ("/srv/a.ts", 2));
        // Line 3, column 5: the second section's first line, its column 1.
        let p = m.lookup(3, 5).unwrap();
        assert_eq!(
            (p.file.as_str(), p.line, p.column, p.name.as_deref()),
            ("/srv/b.ts", 3, 3, Some("f"))
        );
        // Line 4 is the second section's line 2 (columns are no longer shifted there).
        let p = m.lookup(4, 3).unwrap();
        assert_eq!((p.file.as_str(), p.line, p.column), ("/srv/b.ts", 4, 3));
    }

    #[test]
    fn follows_a_chain_of_maps() {
        // src/a.ts --tsc--> dist/a.js --bundler--> bundle.js: each step with its own map file.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "bundle.js",
            "// header\nx();\n//# sourceMappingURL=bundle.js.map\n",
        );
        // bundle.js line 2 col 1 → dist/a.js line 3 col 1.
        write(
            "bundle.js.map",
            r#"{"version":3,"sources":["dist/a.js"],"names":[],"mappings":";AAEA"}"#,
        );
        write(
            "dist/a.js",
            "\"use strict\";\n\nx();\n//# sourceMappingURL=a.js.map\n",
        );
        // dist/a.js line 3 col 1 → src/a.ts line 7 col 5.
        write(
            "dist/a.js.map",
            r#"{"version":3,"sources":["../src/a.ts"],"names":["x"],"mappings":";;AAMIA"}"#,
        );
        let mut maps = SourceMaps::new();
        let bundle = dir.path().join("bundle.js");
        let p = maps.original(bundle.to_str().unwrap(), 2, 1).unwrap();
        assert!(p.file.ends_with("src/a.ts"), "{}", p.file);
        assert_eq!((p.line, p.column, p.name.as_deref()), (7, 5, Some("x")));
    }
    #[test]
    fn a_query_after_a_source_file_is_not_part_of_its_path() {
        let json = r#"{"version":3,"sources":["src/index.tsx?tss-serverfn-split","http://x/a.js?v=1"],"names":[],"mappings":"AAAA,CCAA"}"#;
        let m = SourceMap::parse(json, Some(Path::new("/srv"))).unwrap();
        assert_eq!(m.lookup(1, 1).unwrap().file, "/srv/src/index.tsx");
        assert_eq!(m.lookup(1, 2).unwrap().file, "http://x/a.js?v=1");
    }

    #[test]
    fn warns_once_per_script_when_its_map_cannot_place_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        // Mappings emptied by a build step (Nitro's sourcemap minification does this to
        // files whose sources are all under node_modules).
        write("empty.js", "x();\n//# sourceMappingURL=empty.js.map\n");
        write(
            "empty.js.map",
            r#"{"version":3,"sources":["../node_modules/.cache/a.js"],"names":[],"mappings":""}"#,
        );
        // Line 1 is mapped, line 2 (generated code) is not.
        write("some.js", "x();\ny();\n//# sourceMappingURL=some.js.map\n");
        write(
            "some.js.map",
            r#"{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAAA;"}"#,
        );
        let path = |n: &str| dir.path().join(n).display().to_string();
        let mut maps = SourceMaps::new();
        assert_eq!(maps.original(&path("empty.js"), 1, 1), None);
        assert_eq!(maps.original(&path("empty.js"), 1, 3), None);
        assert!(maps.original(&path("some.js"), 1, 1).is_some());
        assert_eq!(maps.original(&path("some.js"), 2, 1), None);
        assert_eq!(maps.original(&path("some.js"), 2, 2), None);
        let warnings: Vec<String> = maps
            .take_warnings()
            .iter()
            .map(|w| w.text(|s| s.to_string()))
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(
            warnings[0].contains("empty.js") && warnings[0].contains("no mappings"),
            "{warnings:#?}"
        );
        assert!(
            warnings[1].contains("some.js") && warnings[1].contains("line 2"),
            "{warnings:#?}"
        );
        assert!(maps.take_warnings().is_empty());
        // A script without a map is no reason for a warning.
        write("plain.js", "x();\n");
        assert_eq!(maps.original(&path("plain.js"), 1, 1), None);
        assert!(maps.take_warnings().is_empty());
    }
}
