//! The V8 `.heapsnapshot` document: a top-level object whose `snapshot` header says how to
//! read the flat `nodes`, `edges` and `locations` arrays, followed last by `strings`.

use std::collections::HashSet;

use super::layout::{EdgeField, Layout, LocationField, NodeField};

use super::lexer::Lexer;
use super::traces;
use crate::error::{ErrorKind, Result, SnapshotError};
use crate::graph::{EdgeType, HeapGraph, Location, Producer};
use crate::strings::StringTable;

/// Divides by the record stride. Strides are tiny and fixed per file, and a general `u64`
/// division per edge costs a third of a second on 40 M edges, so the common strides get a
/// constant divisor the compiler turns into a multiply.
#[inline(always)]
fn div_stride(v: u64, stride: u64) -> (u64, u64) {
    match stride {
        6 => (v / 6, v % 6),
        7 => (v / 7, v % 7),
        _ => (v / stride, v % stride),
    }
}

/// More bytes than any heap holds (8 PiB). Sizes are summed everywhere (retained sizes,
/// totals, differences between snapshots); below this bound no sum can overflow a `u64`,
/// no difference an `i64`, and every size is exact as an `f64`.
pub(crate) const MAX_HEAP_BYTES: u64 = 1 << 53;

pub(crate) fn corrupt(msg: String) -> SnapshotError {
    ErrorKind::Corrupt(msg).into()
}

/// Parses the whole document. `input_len` is the byte length of the text when known (a
/// plain regular file): it bounds what the header may make us reserve.
pub(crate) fn parse(lex: &mut Lexer, input_len: Option<u64>) -> Result<HeapGraph> {
    match lex.next_token_byte()? {
        None => return Err(ErrorKind::EmptyFile.into()),
        Some(b'{') => {}
        Some(b'[') => {
            return Err(ErrorKind::NotHeapSnapshot(
                "it is an array; a heap snapshot is an object with 'snapshot', 'nodes', 'edges' and 'strings'"
                    .into(),
            )
            .into())
        }
        other => return Err(lex.unexpected(other, "at the start of the file")),
    }

    let mut layout: Option<Layout> = None;
    // Allocated once the header says how large it is; the sections after it may come in
    // any order, each filling its own columns.
    let mut g = HeapGraph::default();
    let mut keys_seen: HashSet<String> = HashSet::new();
    let mut looks_like_jsc = false;

    if lex.peek_after_ws_is(b'}')? {
        lex.next_token_byte()?;
    } else {
        loop {
            lex.expect(b'"', "where a key of the top-level object should be")?;
            let key = lex.read_key()?;
            // The key as messages show it: one short line whatever the file holds.
            let name = shown(&key);
            lex.expect(b':', &format!("after the key '{name}'"))?;
            if !keys_seen.insert(key.clone()) {
                return Err(corrupt(format!("the key '{name}' appears twice")));
            }
            match key.as_str() {
                "snapshot" => {
                    let mut raw = Vec::new();
                    lex.capture_value("snapshot", &mut raw)?;
                    let l = Layout::from_header_json(&raw)?;
                    if l.extra_native_bytes > MAX_HEAP_BYTES {
                        return Err(corrupt(format!(
                            "extra_native_bytes ({}) is more than any heap holds (2^53)",
                            l.extra_native_bytes
                        )));
                    }
                    if l.node_count == 0 {
                        return Err(ErrorKind::EmptyGraph.into());
                    }
                    if l.node_count > u32::MAX as u64 || l.edge_count > u32::MAX as u64 {
                        return Err(corrupt(format!(
                            "{} nodes and {} edges is more than this reader indexes (2^32)",
                            l.node_count, l.edge_count
                        )));
                    }
                    let strings = std::mem::take(&mut g.strings); // they may come first
                    g = HeapGraph::with_capacity(
                        reservation(l.node_count, l.node_stride(), input_len),
                        reservation(l.edge_count, l.edge_fields.len(), input_len),
                    );
                    g.strings = strings;
                    g.extra_native_bytes = l.extra_native_bytes;
                    layout = Some(l);
                }
                "nodes" | "edges" | "locations" if layout.is_none() => {
                    return Err(if looks_like_jsc {
                        ErrorKind::NotHeapSnapshot(
                            "this is a JavaScriptCore (Bun) snapshot; write it in V8 format with Bun.generateHeapSnapshot(\"v8\")".into(),
                        )
                    } else {
                        ErrorKind::NotHeapSnapshot(format!(
                            "'{name}' comes before the 'snapshot' header that describes it"
                        ))
                    }
                    .into());
                }
                "nodes" => read_nodes(lex, layout.as_ref().unwrap(), &mut g)?,
                "edges" => read_edges(lex, layout.as_ref().unwrap(), &mut g)?,
                "locations" => read_locations(lex, layout.as_ref().unwrap(), &mut g)?,
                "trace_function_infos" if layout.is_some() => traces::read_functions(
                    lex,
                    &layout.as_ref().unwrap().trace_function_fields,
                    &mut g,
                )?,
                "trace_tree" if layout.is_some() => {
                    traces::read_tree(lex, &layout.as_ref().unwrap().trace_node_fields, &mut g)?
                }
                "strings" => {
                    let mut table = StringTable::new();
                    lex.read_strings_into(&mut table)?;
                    table.shrink_to_fit();
                    g.strings = table;
                }
                "version" | "type" | "nodeClassNames" | "edgeTypes" | "edgeNames" => {
                    looks_like_jsc = true;
                    lex.skip_value(&name)?;
                }
                _ => lex.skip_value(&name)?,
            }
            match lex.next_token_byte()? {
                Some(b',') => continue,
                Some(b'}') => break,
                other => return Err(lex.unexpected(other, &format!("after the value of '{name}'"))),
            }
        }
    }
    // Only white space may follow: anything else (a second snapshot, a torn write) means the
    // file is not the one snapshot it claims to be. Reading to the end also lets a gzip
    // decoder check its CRC and length.
    if let Some(b) = lex.next_token_byte()? {
        return Err(lex.unexpected(Some(b), "after the end of the top-level object"));
    }

    if let Some(what) = ["snapshot", "nodes", "edges", "strings"]
        .into_iter()
        .find(|k| !keys_seen.contains(*k))
    {
        return Err(ErrorKind::NotHeapSnapshot(if looks_like_jsc && layout.is_none() {
            "this is a JavaScriptCore (Bun) snapshot; write it in V8 format with Bun.generateHeapSnapshot(\"v8\")".to_string()
        } else {
            format!("it has no '{what}' key")
        })
        .into());
    }
    validate_names(&g)?;
    traces::validate(&mut g)?;
    g.producer = if g.strings.get(0) == "<dummy>" {
        Producer::V8
    } else {
        Producer::BunV8Export
    };
    Ok(g)
}

/// Text from the file as an error message may quote it: control characters escaped, long
/// text cut, so the message stays one short line.
fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = text
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Records to reserve for a column the header says holds `declared` records of `stride`
/// numbers. A hostile or corrupt header can claim billions; a record takes at least two
/// bytes per field in the text (`0,`), so a file of known length bounds the reservation.
/// Without a length (gzip, pipes) a modest start is reserved and the columns grow as
/// records actually arrive.
fn reservation(declared: u64, stride: usize, input_len: Option<u64>) -> usize {
    /// 1 Mi records: 16 MiB of node columns, 8 MiB of edge columns.
    const UNKNOWN_LENGTH_RECORDS: u64 = 1 << 20;
    let fits = match input_len {
        Some(len) => len / (2 * stride.max(1) as u64),
        None => UNKNOWN_LENGTH_RECORDS,
    };
    declared.min(fits) as usize
}

/// Cuts a stream of number batches into fixed-size records. Most records lie whole inside
/// a batch and are handed out as sub-slices; only those straddling two batches are copied.
pub(crate) struct Records<const MAX: usize> {
    stride: usize,
    pending: [u64; MAX],
    pub(crate) filled: usize,
    /// Values seen so far, for error messages and the final count check.
    pub(crate) values: u64,
}

impl<const MAX: usize> Records<MAX> {
    pub(crate) fn new(stride: usize) -> Result<Records<MAX>> {
        if stride == 0 || stride > MAX {
            return Err(ErrorKind::UnknownLayout(format!(
                "records of {stride} fields (expected 1 to {MAX})"
            ))
            .into());
        }
        Ok(Records {
            stride,
            pending: [0; MAX],
            filled: 0,
            values: 0,
        })
    }

    #[inline]
    pub(crate) fn feed(
        &mut self,
        mut vals: &[u64],
        mut each: impl FnMut(&[u64]) -> Result<()>,
    ) -> Result<()> {
        self.values += vals.len() as u64;
        if self.filled > 0 {
            let take = (self.stride - self.filled).min(vals.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&vals[..take]);
            self.filled += take;
            vals = &vals[take..];
            if self.filled < self.stride {
                return Ok(());
            }
            each(&self.pending[..self.stride])?;
            self.filled = 0;
        }
        let mut chunks = vals.chunks_exact(self.stride);
        for rec in &mut chunks {
            each(rec)?;
        }
        let rest = chunks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
        Ok(())
    }
}

/// Position of `field` in a record layout (validated to exist by `Layout`).
fn field_index<T: PartialEq>(fields: &[T], field: T) -> usize {
    fields.iter().position(|f| *f == field).unwrap_or(0)
}

fn read_nodes(lex: &mut Lexer, layout: &Layout, g: &mut HeapGraph) -> Result<()> {
    let n = layout.node_count as usize;
    let fields = &layout.node_fields;
    let stride = fields.len();
    let expected = (n * stride) as u64;
    let type_map = &layout.node_type_map;
    let [ti, ni, ii, si, ei] = [
        NodeField::Type,
        NodeField::Name,
        NodeField::Id,
        NodeField::SelfSize,
        NodeField::EdgeCount,
    ]
    .map(|f| field_index(fields, f));
    let trace_at = fields.iter().position(|f| *f == NodeField::TraceNodeId);
    let mut records = Records::<16>::new(stride)?;
    let mut edges_so_far: u64 = 0;
    let mut total_size: u64 = 0;
    lex.read_uint_array("nodes", |vals| {
        if records.values + vals.len() as u64 > expected {
            return Err(corrupt(format!(
                "'nodes' holds more than node_count ({n}) × {stride} values"
            )));
        }
        g.reserve_nodes(vals.len() / stride + 1, n);
        records.feed(vals, |rec| {
            let Some(&t) = type_map.get(rec[ti] as usize) else {
                return Err(bad_type(
                    "node",
                    g.node_count(),
                    rec[ti],
                    "node_types",
                    type_map.len(),
                ));
            };
            edges_so_far += rec[ei];
            total_size = total_size.saturating_add(rec[si]);
            if edges_so_far > layout.edge_count {
                return Err(corrupt(format!(
                    "the nodes' edge counts add up to more than edge_count ({})",
                    layout.edge_count
                )));
            }
            let name = fit_u32(rec[ni], "a node name")?;
            let id = fit_u32(rec[ii], "a node id")?;
            g.push_node(t, name, id, rec[si], edges_so_far as u32);
            if let Some(k) = trace_at {
                if rec[k] != 0 {
                    let trace = fit_u32(rec[k], "a trace node id")?;
                    g.set_trace_node_id(g.node_count() as u32 - 1, trace, n);
                }
            }
            Ok(())
        })
    })?;
    let total = records.values;
    if total != expected {
        return Err(ErrorKind::Truncated(format!(
            "'nodes' has {total} values but node_count {n} × {stride} fields needs {expected}"
        ))
        .into());
    }
    if total_size > MAX_HEAP_BYTES {
        return Err(corrupt(format!(
            "the nodes' self sizes add up to {total_size} bytes, more than any heap holds (2^53)"
        )));
    }
    if edges_so_far != layout.edge_count {
        return Err(corrupt(format!(
            "the nodes' edge counts add up to {edges_so_far}, but edge_count says {}",
            layout.edge_count
        )));
    }
    Ok(())
}

/// Reads the edges. Their count is checked against the header's, as is the sum of the
/// nodes' edge counts, so the two agree whichever section comes first.
fn read_edges(lex: &mut Lexer, layout: &Layout, g: &mut HeapGraph) -> Result<()> {
    let m = layout.edge_count as usize;
    let fields = &layout.edge_fields;
    let stride = fields.len();
    let expected = (m * stride) as u64;
    let node_stride = layout.node_stride() as u64;
    let node_count = layout.node_count;
    let type_map = &layout.edge_type_map;
    let [ti, ni, di] = [EdgeField::Type, EdgeField::NameOrIndex, EdgeField::ToNode]
        .map(|f| field_index(fields, f));
    let mut records = Records::<8>::new(stride)?;
    lex.read_uint_array("edges", |vals| {
        if records.values + vals.len() as u64 > expected {
            return Err(corrupt(format!(
                "'edges' holds more than edge_count ({m}) × {stride} values"
            )));
        }
        g.reserve_edges(vals.len() / stride + 1, m);
        records.feed(vals, |rec| {
            let Some(&t) = type_map.get(rec[ti] as usize) else {
                return Err(bad_type("edge", g.edge_count(), rec[ti], "edge_types", type_map.len()));
            };
            let (ordinal, rest) = div_stride(rec[di], node_stride);
            if rest != 0 || ordinal >= node_count {
                return Err(corrupt(format!(
                    "edge {} points at nodes[{}], which is not the start of one of the {node_count} nodes",
                    g.edge_count(),
                    rec[di]
                )));
            }
            g.push_edge(t, fit_u32(rec[ni], "an edge name")?, ordinal as u32);
            Ok(())
        })
    })?;
    let total = records.values;
    if total != expected {
        return Err(ErrorKind::Truncated(format!(
            "'edges' has {total} values but edge_count {m} × {stride} fields needs {expected}"
        ))
        .into());
    }
    Ok(())
}

fn read_locations(lex: &mut Lexer, layout: &Layout, g: &mut HeapGraph) -> Result<()> {
    let fields = &layout.location_fields;
    if fields.is_empty() {
        return lex.skip_value("locations");
    }
    let node_stride = layout.node_stride() as u64;
    let [oi, si, li, ci] = [
        LocationField::ObjectIndex,
        LocationField::ScriptId,
        LocationField::Line,
        LocationField::Column,
    ]
    .map(|f| field_index(fields, f));
    let mut records = Records::<8>::new(fields.len())?;
    lex.read_uint_array("locations", |vals| {
        records.feed(vals, |rec| {
            let (ordinal, rest) = div_stride(rec[oi], node_stride);
            if rest != 0 || ordinal >= layout.node_count {
                return Err(corrupt(format!(
                    "a location points at nodes[{}], which is not a node",
                    rec[oi]
                )));
            }
            g.locations.push(Location {
                node: ordinal as u32,
                script_id: fit_u32(rec[si], "a script id")?,
                line: fit_u32(rec[li], "a line")?,
                column: fit_u32(rec[ci], "a column")?,
            });
            Ok(())
        })
    })?;
    if records.filled != 0 {
        return Err(ErrorKind::Truncated(format!(
            "'locations' has {} values, which is not a whole number of {}-field records",
            records.values,
            fields.len()
        ))
        .into());
    }
    Ok(())
}

/// A type number past the header's list of type names.
#[cold]
fn bad_type(what: &str, ordinal: usize, t: u64, list: &str, known: usize) -> SnapshotError {
    corrupt(format!(
        "{what} {ordinal} has type {t}, but meta.{list}[0] names only {known} types"
    ))
}

#[inline]
pub(crate) fn fit_u32(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(format!("{what} ({v}) does not fit in 32 bits")))
}

/// Every name index must point into `strings`; checked once here so that lookups later
/// never need to.
fn validate_names(g: &HeapGraph) -> Result<()> {
    let count = g.strings.len() as u32;
    for n in 0..g.node_count() as u32 {
        let name = g.node_name_index(n);
        if name >= count {
            return Err(corrupt(format!(
                "node {n} is named by string {name}, but there are only {count} strings"
            )));
        }
    }
    for e in 0..g.edge_count() as u32 {
        let name = g.edge_name_or_index(e);
        // Element and hidden edges hold an index; an edge type this version does not know
        // may hold either, and is only ever shown, never looked up.
        let t = g.edge_type(e);
        if name >= count && !t.name_is_index() && t != EdgeType::Unknown {
            return Err(corrupt(format!(
                "edge {e} is named by string {name}, but there are only {count} strings"
            )));
        }
    }
    Ok(())
}
