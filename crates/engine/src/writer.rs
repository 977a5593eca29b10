//! Writes a graph back out as a V8 `.heapsnapshot` (Node 20 layout). Tests use it to feed
//! the reader graphs with known contents; it is also handy for cutting fixtures.

use std::io::{self, Write};

use crate::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};

const NODE_FIELDS: usize = 7;

/// Serializes `g` with one record per line, as Node 20 writes it.
pub fn write_snapshot(g: &HeapGraph, out: &mut impl Write) -> io::Result<()> {
    // Every type this version knows, `unknown` included, so that any graph round-trips.
    let node_types = quoted_list(NodeType::ALL.iter().map(|t| t.v8_name()));
    let edge_types = quoted_list(EdgeType::ALL.iter().map(|t| t.v8_name()));
    write!(
        out,
        concat!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"#,
            r#""node_types":[[{}],"string","number","number","number","number","number"],"#,
            r#""edge_fields":["type","name_or_index","to_node"],"edge_types":[[{}],"string_or_number","node"],"#,
            r#""trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"#,
            r#""sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]}},"#,
            r#""node_count":{},"edge_count":{},"trace_function_count":{}}},"#,
            "\n\"nodes\":["
        ),
        node_types,
        edge_types,
        g.node_count(),
        g.edge_count(),
        g.traces().functions().len()
    )?;
    for n in 0..g.node_count() as NodeIndex {
        let edges = g.edges_of(n);
        writeln!(
            out,
            "{}{},{},{},{},{},{},0",
            if n == 0 { "" } else { "," },
            g.node_type(n) as u8,
            g.node_name_index(n),
            g.node_id(n),
            g.self_size(n),
            edges.end - edges.start,
            g.trace_node_id(n)
        )?;
    }
    out.write_all(b"],\n\"edges\":[")?;
    for e in 0..g.edge_count() as u32 {
        writeln!(
            out,
            "{}{},{},{}",
            if e == 0 { "" } else { "," },
            g.edge_type(e) as u8,
            g.edge_name_or_index(e),
            g.edge_target(e) as usize * NODE_FIELDS
        )?;
    }
    out.write_all(b"],\n\"trace_function_infos\":[")?;
    for (i, f) in g.traces().functions().iter().enumerate() {
        write!(
            out,
            "{}{},{},{},0,{},{}",
            if i == 0 { "" } else { "," },
            i,
            f.name,
            f.script_name,
            f.line,
            f.column
        )?;
    }
    out.write_all(b"],\n\"trace_tree\":")?;
    write_trace_tree(g.traces(), out)?;
    out.write_all(b",\n\"samples\":[],\n\"locations\":[")?;
    for (i, l) in g.locations().iter().enumerate() {
        writeln!(
            out,
            "{}{},{},{},{}",
            if i == 0 { "" } else { "," },
            l.node as usize * NODE_FIELDS,
            l.script_id,
            l.line,
            l.column
        )?;
    }
    out.write_all(b"],\n\"strings\":[")?;
    for i in 0..g.strings().len() as u32 {
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, g.string(i))?;
    }
    out.write_all(b"]}")?;
    Ok(())
}

/// The tree nested as V8 writes it: `[id,function,count,size,[children…]]`, count and size 0.
fn write_trace_tree(t: &crate::traces::AllocationTraces, out: &mut impl Write) -> io::Result<()> {
    use crate::traces::NO_PARENT;
    let n = t.ids.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for i in 0..n {
        match t.parents[i] {
            NO_PARENT => roots.push(i),
            p => children[p as usize].push(i),
        }
    }
    // Depth first with an explicit stack: (node, is its closing).
    out.write_all(b"[")?;
    let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
    let mut first = true;
    while let Some((i, closing)) = stack.pop() {
        if closing {
            out.write_all(b"]")?;
            first = false;
            continue;
        }
        if !first {
            out.write_all(b",")?;
        }
        write!(out, "{},{},0,0,[", t.ids[i], t.function_of[i])?;
        first = true;
        stack.push((i, true));
        stack.extend(children[i].iter().rev().map(|&c| (c, false)));
    }
    out.write_all(b"]")
}

/// `"a","b","c"`: type names are plain ASCII words, nothing to escape.
fn quoted_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(",")
}

/// The snapshot text as a `Vec<u8>`.
pub fn snapshot_bytes(g: &HeapGraph) -> Vec<u8> {
    let mut v = Vec::new();
    write_snapshot(g, &mut v).expect("writing to memory cannot fail");
    v
}
