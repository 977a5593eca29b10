//! The V8 `.heapsnapshot` document: a top-level object whose `snapshot` header says how to
//! read the flat `nodes`, `edges` and `locations` arrays, followed last by `strings`.

use super::layout::{EdgeField, Layout, LocationField, NodeField};

use super::lexer::Lexer;
use crate::error::{ErrorKind, Result};
use crate::graph::{EdgeType, HeapGraph, Location, NodeType, Producer};
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

fn corrupt(msg: String) -> crate::error::SnapshotError {
    ErrorKind::Corrupt(msg).into()
}

pub(crate) fn parse(lex: &mut Lexer) -> Result<HeapGraph> {
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
    let mut g = HeapGraph::default();
    let (mut seen_nodes, mut seen_edges, mut seen_strings) = (false, false, false);
    let mut looks_like_jsc = false;

    if lex.peek_after_ws_is(b'}')? {
        lex.next_token_byte()?;
    } else {
        loop {
            lex.expect(b'"', "where a key of the top-level object should be")?;
            let key = lex.read_key()?;
            lex.expect(b':', &format!("after the key '{key}'"))?;
            match key.as_str() {
                "snapshot" => {
                    let mut raw = Vec::new();
                    lex.capture_value("snapshot", &mut raw)?;
                    let l = Layout::from_header_json(&raw)?;
                    if l.node_count == 0 {
                        return Err(ErrorKind::EmptyGraph.into());
                    }
                    if l.node_count > u32::MAX as u64 || l.edge_count > u32::MAX as u64 {
                        return Err(corrupt(format!(
                            "{} nodes and {} edges is more than this reader indexes (2^32)",
                            l.node_count, l.edge_count
                        )));
                    }
                    layout = Some(l);
                }
                "nodes" | "edges" | "locations" if layout.is_none() => {
                    return Err(if looks_like_jsc {
                        ErrorKind::NotHeapSnapshot(
                            "this is a JavaScriptCore (Bun) snapshot; write it in V8 format with Bun.generateHeapSnapshot(\"v8\")".into(),
                        )
                    } else {
                        ErrorKind::NotHeapSnapshot(format!(
                            "'{key}' comes before the 'snapshot' header that describes it"
                        ))
                    }
                    .into());
                }
                "nodes" => {
                    read_nodes(lex, layout.as_ref().unwrap(), &mut g)?;
                    seen_nodes = true;
                }
                "edges" => {
                    read_edges(lex, layout.as_ref().unwrap(), &mut g)?;
                    seen_edges = true;
                }
                "locations" => read_locations(lex, layout.as_ref().unwrap(), &mut g)?,
                "strings" => {
                    let mut table = StringTable::new();
                    lex.read_strings_into(&mut table)?;
                    table.shrink_to_fit();
                    g.strings = table;
                    seen_strings = true;
                }
                "version" | "type" | "nodeClassNames" | "edgeTypes" | "edgeNames" => {
                    looks_like_jsc = true;
                    lex.skip_value(&key)?;
                }
                _ => lex.skip_value(&key)?,
            }
            match lex.next_token_byte()? {
                Some(b',') => continue,
                Some(b'}') => break,
                other => return Err(lex.unexpected(other, &format!("after the value of '{key}'"))),
            }
        }
    }

    let missing = [
        (layout.is_some(), "snapshot"),
        (seen_nodes, "nodes"),
        (seen_edges, "edges"),
        (seen_strings, "strings"),
    ];
    if let Some((_, what)) = missing.iter().find(|(seen, _)| !seen) {
        return Err(ErrorKind::NotHeapSnapshot(if looks_like_jsc && layout.is_none() {
            "this is a JavaScriptCore (Bun) snapshot; write it in V8 format with Bun.generateHeapSnapshot(\"v8\")".to_string()
        } else {
            format!("it has no '{what}' key")
        })
        .into());
    }
    validate_names(&g)?;
    g.producer = if g.strings.get(0) == "<dummy>" { Producer::V8 } else { Producer::BunV8Export };
    Ok(g)
}

fn read_nodes(lex: &mut Lexer, layout: &Layout, g: &mut HeapGraph) -> Result<()> {
    let n = layout.node_count as usize;
    *g = HeapGraph::with_capacity(n, layout.edge_count as usize);
    g.extra_native_bytes = layout.extra_native_bytes;
    let fields = &layout.node_fields;
    let stride = fields.len();
    let expected = (n * stride) as u64;
    let type_map = &layout.node_type_map;
    let mut field = 0usize;
    let mut seen = 0u64;
    let (mut t, mut name, mut id, mut size) = (0u8, 0u32, 0u32, 0u64);
    let mut edges_so_far: u64 = 0;
    let total = lex.read_uint_array("nodes", |v| {
        if seen == expected {
            return Err(corrupt(format!(
                "'nodes' holds more than node_count ({n}) × {stride} values"
            )));
        }
        seen += 1;
        match fields[field] {
            NodeField::Type => {
                t = type_map.get(v as usize).copied().unwrap_or(NodeType::Unknown as u8)
            }
            NodeField::Name => name = fit_u32(v, "a node name")?,
            NodeField::Id => id = fit_u32(v, "a node id")?,
            NodeField::SelfSize => size = v,
            NodeField::EdgeCount => {
                edges_so_far += v;
                if edges_so_far > layout.edge_count {
                    return Err(corrupt(format!(
                        "the nodes' edge counts add up to more than edge_count ({})",
                        layout.edge_count
                    )));
                }
            }
            NodeField::Ignored => {}
        }
        field += 1;
        if field == stride {
            field = 0;
            g.push_node(t, name, id, size, edges_so_far as u32);
        }
        Ok(())
    })?;
    if total != expected {
        return Err(ErrorKind::Truncated(format!(
            "'nodes' has {total} values but node_count {n} × {stride} fields needs {expected}"
        ))
        .into());
    }
    if edges_so_far != layout.edge_count {
        return Err(corrupt(format!(
            "the nodes' edge counts add up to {edges_so_far}, but edge_count says {}",
            layout.edge_count
        )));
    }
    Ok(())
}

fn read_edges(lex: &mut Lexer, layout: &Layout, g: &mut HeapGraph) -> Result<()> {
    let m = layout.edge_count as usize;
    let fields = &layout.edge_fields;
    let stride = fields.len();
    let expected = (m * stride) as u64;
    let node_stride = layout.node_stride() as u64;
    let node_count = layout.node_count;
    let type_map = &layout.edge_type_map;
    let mut field = 0usize;
    let mut seen = 0u64;
    let (mut t, mut name, mut to) = (0u8, 0u32, 0u32);
    let total = lex.read_uint_array("edges", |v| {
        if seen == expected {
            return Err(corrupt(format!(
                "'edges' holds more than edge_count ({m}) × {stride} values"
            )));
        }
        seen += 1;
        match fields[field] {
            EdgeField::Type => {
                t = type_map.get(v as usize).copied().unwrap_or(EdgeType::Unknown as u8)
            }
            EdgeField::NameOrIndex => name = fit_u32(v, "an edge name")?,
            EdgeField::ToNode => {
                let (ordinal, rest) = div_stride(v, node_stride);
                if rest != 0 || ordinal >= node_count {
                    return Err(corrupt(format!(
                        "edge {} points at nodes[{v}], which is not the start of one of the {node_count} nodes",
                        (seen - 1) / stride as u64
                    )));
                }
                to = ordinal as u32;
            }
            EdgeField::Ignored => {}
        }
        field += 1;
        if field == stride {
            field = 0;
            g.push_edge(t, name, to);
        }
        Ok(())
    })?;
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
    let stride = fields.len();
    let node_stride = layout.node_stride() as u64;
    let mut field = 0usize;
    let mut cur = Location { node: 0, script_id: 0, line: 0, column: 0 };
    lex.read_uint_array("locations", |v| {
        match fields[field] {
            LocationField::ObjectIndex => {
                let (ordinal, rest) = div_stride(v, node_stride);
                if rest != 0 || ordinal >= layout.node_count {
                    return Err(corrupt(format!(
                        "a location points at nodes[{v}], which is not a node"
                    )));
                }
                cur.node = ordinal as u32
            }
            LocationField::ScriptId => cur.script_id = fit_u32(v, "a script id")?,
            LocationField::Line => cur.line = fit_u32(v, "a line")?,
            LocationField::Column => cur.column = fit_u32(v, "a column")?,
            LocationField::Ignored => {}
        }
        field += 1;
        if field == stride {
            field = 0;
            g.locations.push(cur);
        }
        Ok(())
    })?;
    Ok(())
}

#[inline]
fn fit_u32(v: u64, what: &str) -> Result<u32> {
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
        if name >= count && !g.edge_type(e).name_is_index() {
            return Err(corrupt(format!(
                "edge {e} is named by string {name}, but there are only {count} strings"
            )));
        }
    }
    Ok(())
}
