//! Writes small synthetic snapshots for the fuzz corpus with the writer: every node and edge
//! type (unknown included), ids and sizes past 32 bits, weak map entries, self loops,
//! unreachable nodes, element indices past the name bits.
//!   cargo run -p leakhunt-engine --example fuzz_seeds -- OUT_DIR
use leakhunt_engine::writer::snapshot_bytes;
use leakhunt_engine::{EdgeType, GraphBuilder, NodeType};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: fuzz_seeds DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    for (seed, nodes) in [(1u64, 8u32), (2, 30), (3, 90)] {
        let mut s = seed;
        let mut rand = |m: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % m
        };
        let mut b = GraphBuilder::new();
        let roots = b.node(NodeType::Synthetic, "(GC roots)", 0);
        b.edge(b.root(), EdgeType::Element, "1", roots);
        let global = b.node(NodeType::Object, "Window", 40);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(roots, EdgeType::Element, "0", global);
        let table = b.node(NodeType::Array, "", 64);
        b.edge(global, EdgeType::Internal, "table", table);
        let mut all = vec![global, table];
        for i in 0..nodes {
            let t = NodeType::ALL[rand(NodeType::ALL.len() as u64) as usize];
            let size = if i % 9 == 0 { 1 << 33 } else { rand(200) };
            let id = if i % 7 == 0 {
                4_000_000_000 + 2 * i
            } else {
                100 + 2 * i + 1
            };
            let n = b.node_with_id(t, &format!("C{}", rand(6)), size, id);
            all.push(n);
        }
        for _ in 0..nodes * 3 {
            let from = all[rand(all.len() as u64) as usize];
            let to = all[rand(all.len() as u64) as usize];
            let t = EdgeType::ALL[rand(EdgeType::ALL.len() as u64) as usize];
            let name = if t.name_is_index() {
                [0, 7, 600_000_000][rand(3) as usize].to_string()
            } else if rand(4) == 0 {
                // A weak map entry, as V8 names it: key and table ids.
                format!(
                    "{} / part of key (C @101) -> value (C @103) pair in WeakMap (table @5)",
                    rand(9)
                )
            } else {
                format!("p{}", rand(5))
            };
            b.edge(from, t, &name, to);
        }
        // Allocation stacks on some objects, as a snapshot taken while tracking has them
        // (frames in the app, in a library, in Node's own code).
        let frames = [
            ("make", "/srv/app.js", 3, 10),
            ("store", "/srv/node_modules/lib/index.js", 8, 2),
            ("emit", "node:events", 519, 28),
            ("handle", "/srv/app.js", 12, 5),
        ];
        for (k, &n) in all.iter().enumerate().skip(2).step_by(3) {
            let from = k % frames.len();
            b.allocated_at(n, &frames[from..]);
        }
        let g = b.build();
        std::fs::write(
            dir.join(format!("synthetic-{seed}.heapsnapshot")),
            snapshot_bytes(&g),
        )
        .unwrap();
    }
}
