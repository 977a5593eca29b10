//! Reading heap snapshots: from a path, stdin or any `Read`, gzip detected by its magic bytes.
//!
//! The reader streams: a background thread reads (and inflates) 1 MiB blocks while the parser
//! turns numbers straight into the graph's preallocated columns. Memory is the graph itself
//! plus a few blocks, never the file.

mod blocks;
mod layout;
mod lexer;
mod numbers;
mod traces;
mod v8;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::error::{ErrorKind, Result, SnapshotError};
use crate::graph::HeapGraph;
use blocks::{Blocks, Counting};

/// Options for reading a snapshot.
#[derive(Clone, Default)]
pub struct ReadOptions {
    /// Incremented with every byte taken from the source (compressed bytes for gzip), so a
    /// caller can draw progress against the file's size from another thread.
    pub bytes_read: Option<Arc<AtomicU64>>,
}

/// Reads a snapshot file; `-` means standard input. Errors name the file.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<HeapGraph> {
    let result = if path.as_os_str() == "-" {
        read_source(io::stdin(), opts, None)
    } else {
        match File::open(path) {
            Ok(f) => {
                // The length bounds what a header may make us reserve; only a regular file
                // has one we can trust.
                let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
                read_source(f, opts, len)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(SnapshotError::from(
                io::Error::new(e.kind(), "no such file"),
            )),
            Err(e) => Err(e.into()),
        }
    };
    result.map_err(|e| e.with_source(path))
}

/// Reads a snapshot from any byte source; gzip is recognised and inflated transparently.
pub fn read_from<R: Read + Send + 'static>(source: R, opts: &ReadOptions) -> Result<HeapGraph> {
    read_source(source, opts, None)
}

/// `len`: the source's length in bytes, when known.
fn read_source<R: Read + Send + 'static>(
    source: R,
    opts: &ReadOptions,
    len: Option<u64>,
) -> Result<HeapGraph> {
    let _t = crate::timing::stage("read snapshot");
    let counter = opts.bytes_read.clone().unwrap_or_default();
    let mut buffered = BufReader::with_capacity(64 * 1024, Counting::new(source, counter));
    let head = buffered.fill_buf()?;
    let (blocks, text_len) = if head.starts_with(&GZIP_MAGIC) {
        let gz = flate2::read::MultiGzDecoder::new(buffered);
        (Blocks::spawn(GzipErrors(gz)), None)
    } else {
        (Blocks::spawn(buffered), len)
    };
    let mut lexer = lexer::Lexer::new(blocks);
    v8::parse(&mut lexer, text_len).map_err(|e| match e.kind {
        // A gzip stream cut short surfaces as an I/O error from the decoder.
        ErrorKind::Io(ref io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            ErrorKind::Truncated(format!("the gzip stream ends early ({io})")).into()
        }
        _ => e,
    })
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Words the decoder's errors (a bad checksum, a corrupt block, garbage after the stream)
/// as what they are: the compressed file is damaged.
struct GzipErrors<R>(R);

impl<R: Read> Read for GzipErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            kind @ (io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData) => {
                io::Error::new(kind, format!("the gzip data is corrupt ({e})"))
            }
            _ => e,
        })
    }
}

/// Reads a snapshot held in memory (tests, small inputs).
pub fn read_bytes(bytes: Vec<u8>) -> Result<HeapGraph> {
    let len = bytes.len() as u64;
    read_source(io::Cursor::new(bytes), &ReadOptions::default(), Some(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::graph::{EdgeType, NodeType};
    use crate::writer::snapshot_bytes;

    fn random_graph(seed: u64, nodes: u32) -> HeapGraph {
        let mut s = seed;
        let mut rand = |m: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % m
        };
        let mut b = GraphBuilder::new();
        let types = [
            NodeType::Object,
            NodeType::Array,
            NodeType::String,
            NodeType::Closure,
            NodeType::Hidden,
        ];
        for i in 1..nodes {
            // Sizes and ids of every digit count, including past 2^31 and 2^32.
            let size = match i % 5 {
                0 => rand(10),
                1 => rand(100_000),
                2 => rand(1 << 40),
                _ => rand(1000),
            };
            let id = if i % 7 == 0 {
                2_074_184_160 + i
            } else {
                2 * i + 1
            };
            b.node_with_id(
                types[i as usize % types.len()],
                &format!("N{}", rand(50)),
                size,
                id,
            );
        }
        for _ in 0..nodes * 3 {
            let from = rand(nodes as u64) as u32;
            let to = rand(nodes as u64) as u32;
            match rand(4) {
                0 => b.edge(from, EdgeType::Element, &rand(1_000_000).to_string(), to),
                1 => b.edge(from, EdgeType::Weak, "w", to),
                _ => b.edge(from, EdgeType::Property, &format!("p{}", rand(30)), to),
            }
        }
        b.build()
    }

    fn assert_same(a: &HeapGraph, b: &HeapGraph) {
        assert_eq!(a.node_count(), b.node_count());
        assert_eq!(a.edge_count(), b.edge_count());
        for n in 0..a.node_count() as u32 {
            assert_eq!(a.node_type(n), b.node_type(n));
            assert_eq!(a.node_name(n), b.node_name(n));
            assert_eq!(a.node_id(n), b.node_id(n));
            assert_eq!(a.self_size(n), b.self_size(n), "node {n}");
            assert_eq!(a.edges_of(n), b.edges_of(n));
        }
        for e in 0..a.edge_count() as u32 {
            assert_eq!(a.edge_type(e), b.edge_type(e));
            assert_eq!(a.edge_name_or_index(e), b.edge_name_or_index(e));
            assert_eq!(a.edge_target(e), b.edge_target(e));
        }
    }

    #[test]
    fn round_trips_through_many_block_boundaries() {
        for seed in 1..6 {
            let g = random_graph(seed * 7919, 3000);
            let read = read_bytes(snapshot_bytes(&g)).unwrap();
            assert_same(&g, &read);
        }
    }

    #[test]
    fn single_line_layout_reads_the_same() {
        // Node 24 and Bun write each array on one line.
        let g = random_graph(42, 2000);
        let text = String::from_utf8(snapshot_bytes(&g)).unwrap();
        let one_line = text.replace(",\n", ",").replace("\n", "");
        assert_same(&g, &read_bytes(one_line.into_bytes()).unwrap());
    }

    /// Faults in a number array are found wherever they fall: inside a block, across two
    /// (blocks are 4099 bytes in tests, and alternate between the parser's own scan and the
    /// reader thread's), whichever path scans them.
    #[test]
    fn separator_faults_are_found_across_block_boundaries() {
        let g = random_graph(11, 3000);
        let text = snapshot_bytes(&g);
        let nodes_at = memchr::memmem::find(&text, b"\"nodes\":[").unwrap() + 9;
        let commas: Vec<usize> = (nodes_at..nodes_at + 40_000)
            .filter(|&i| text[i] == b',' && text[i + 1].is_ascii_digit())
            .collect();
        let mut checked = 0;
        for boundary in [4099, 2 * 4099, 3 * 4099, 5 * 4099, 7 * 4099] {
            for &c in commas
                .iter()
                .filter(|&&c| c + 12 > boundary && c < boundary + 12)
            {
                for (fault, want) in [
                    (&b" "[..], "two numbers without a comma"),
                    (b" \n ", "two numbers without a comma"),
                    (b",,", "a comma without a number"),
                    (b", \n,", "a comma without a number"),
                    (b",0", "a leading zero"),
                ] {
                    let mut bad = text[..c].to_vec();
                    bad.extend_from_slice(fault);
                    bad.extend_from_slice(&text[c + 1..]);
                    let err = read_bytes(bad).unwrap_err().to_string();
                    assert!(err.contains(want), "{fault:?} at {c}: {err}");
                }
                // White space around a comma is still JSON, and reads the same.
                let mut spaced = text[..c].to_vec();
                spaced.extend_from_slice(b" \n,\r\t ");
                spaced.extend_from_slice(&text[c + 1..]);
                assert_same(&g, &read_bytes(spaced).unwrap());
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} commas near block boundaries");
    }

    #[test]
    fn gzip_is_read_transparently() {
        use std::io::Write;
        let g = random_graph(5, 500);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&snapshot_bytes(&g)).unwrap();
        assert_same(&g, &read_bytes(enc.finish().unwrap()).unwrap());
    }

    fn traced_graph() -> HeapGraph {
        let mut b = GraphBuilder::new();
        let root = b.root();
        let a = b.node(NodeType::Object, "Record", 40);
        let c = b.node(NodeType::Object, "Record", 40);
        let d = b.node(NodeType::Object, "Other", 8);
        b.edge(root, EdgeType::Element, "1", a);
        b.edge(root, EdgeType::Element, "2", c);
        b.edge(root, EdgeType::Element, "3", d);
        let handler = ("handle", "/srv/app.js", 12, 5);
        b.allocated_at(a, &[("makeRecord", "/srv/app.js", 3, 10), handler]);
        b.allocated_at(c, &[("makeRecord", "/srv/app.js", 3, 10), handler]);
        b.allocated_at(d, &[handler]);
        b.build()
    }

    fn frames(g: &HeapGraph, n: u32) -> Vec<(String, String, u32, u32)> {
        g.traces()
            .stack(g.trace_node_id(n))
            .iter()
            .map(|f| {
                (
                    g.string(f.name).to_string(),
                    g.string(f.script_name).to_string(),
                    f.line,
                    f.column,
                )
            })
            .collect()
    }

    #[test]
    fn allocation_stacks_round_trip_through_the_nested_trace_tree() {
        let g = traced_graph();
        let read = read_bytes(snapshot_bytes(&g)).unwrap();
        assert_same(&g, &read);
        assert!(read.has_allocation_traces());
        let want = vec![
            ("makeRecord".to_string(), "/srv/app.js".to_string(), 3, 10),
            ("handle".to_string(), "/srv/app.js".to_string(), 12, 5),
        ];
        assert_eq!(frames(&read, 1), want);
        assert_eq!(read.trace_node_id(1), read.trace_node_id(2));
        assert_eq!(frames(&read, 3), want[1..].to_vec());
        assert_eq!(read.trace_node_id(0), 0);
        assert!(frames(&read, 0).is_empty());
    }

    /// The layout V8 writes while tracking, verbatim in shape: a tree nested several levels
    /// with empty children lists, sibling subtrees, and white space anywhere.
    #[test]
    fn reads_v8s_trace_tree_layout() {
        let text = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["synthetic","object"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"location_fields":["object_index","script_id","line","column"]},"node_count":3,"edge_count":2,"trace_function_count":3},
"nodes":[0,0,1,0,2,0,0,1,1,3,16,0,5,0,1,1,5,16,0,2,0],
"edges":[0,1,7,0,2,14],
"trace_function_infos":[0,1,0,0,0,0,1,2,3,81,7,14,2,4,3,81,20,3],
"trace_tree":[1,0,0,0,[2,1,84,3960,[],3,2,51,5856,[ 7 , 1 , 1 , 16 , [ ] ,5,1,0,0,[]]]],
"samples":[],"locations":[],
"strings":["<dummy>","(root)","LeakyRecord","/srv/leaky.js","handler"]}"#;
        let g = read_bytes(text.as_bytes().to_vec()).unwrap();
        assert_eq!(g.traces().tree_len(), 5);
        assert_eq!(g.trace_node_id(0), 0);
        let names = |n| {
            frames(&g, n)
                .into_iter()
                .map(|f| format!("{}:{}", f.0, f.2))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(1), ["LeakyRecord:7", "handler:20"]);
        assert_eq!(names(2), ["LeakyRecord:7"]);
        // Without tracking (Node 24 writes no trace_node_id at all) nothing is kept per node.
        let untracked = text
            .replace(r#""trace_node_id","#, "")
            .replace(
                "0,0,1,0,2,0,0,1,1,3,16,0,5,0,1,1,5,16,0,2,0",
                "0,0,1,0,2,0,1,1,3,16,0,0,1,1,5,16,0,0",
            )
            .replace("[0,1,7,0,2,14]", "[0,1,6,0,2,12]");
        let u = read_bytes(untracked.into_bytes()).unwrap();
        assert!(!u.has_allocation_traces());
        assert_eq!(u.heap_bytes() + 4 * 3, g.heap_bytes());
    }

    #[test]
    fn broken_trace_sections_are_named() {
        let g = traced_graph();
        let text = String::from_utf8(snapshot_bytes(&g)).unwrap();
        let tree_at = text.find("\"trace_tree\":[").unwrap() + 14;
        for (bad, want) in [
            // a function index past the list
            (
                format!("{}1,99,{}", &text[..tree_at], &text[tree_at + 4..]),
                "names function 99",
            ),
            // a record cut short
            (
                format!(
                    "{}1,0,0{}",
                    &text[..tree_at],
                    &text[text[tree_at..].find("],\n\"samples").unwrap() + tree_at..]
                ),
                "not a whole number",
            ),
            // a number where the children should be
            (
                format!(
                    "{}1,0,0,0,7]{}",
                    &text[..tree_at],
                    &text[text[tree_at..].find("],\n\"samples").unwrap() + tree_at..]
                ),
                "unexpected",
            ),
        ] {
            let err = read_bytes(bad.into_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    /// A program that recurses deeply gives a deep tree; it is read on a heap stack.
    #[test]
    fn a_deep_trace_tree_is_read_without_recursion() {
        let g = traced_graph();
        let text = String::from_utf8(snapshot_bytes(&g)).unwrap();
        let depth = 200_000;
        let mut tree = String::from("[");
        for i in 0..depth {
            tree.push_str(&format!("{},1,0,0,[", i + 100));
        }
        tree.push_str(&"]".repeat(depth + 1));
        let at = text.find("\"trace_tree\":").unwrap() + 13;
        let end = text.find(",\n\"samples\"").unwrap();
        let deep = format!("{}{}{}", &text[..at], tree, &text[end..]);
        let read = read_bytes(deep.into_bytes()).unwrap();
        assert_eq!(read.traces().tree_len(), depth);
        assert_eq!(read.traces().stack(100 + depth as u32 - 1).len(), depth - 1);
    }
}
