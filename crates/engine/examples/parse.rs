//! Times each stage of reading and analysing a snapshot: `cargo run --release -p
//! leakhunt-engine --example parse -- FILE`.
use std::time::Instant;

use leakhunt_engine::{reader, Analysis, AnalysisOptions, Phase};

// As the `leakhunt` binary does, so the stage timings match.
#[global_allocator]
static ALLOCATOR: leakhunt_engine::huge_pages::HugePages = leakhunt_engine::huge_pages::HugePages;

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse FILE");
    let t = Instant::now();
    let g = reader::read_path(path.as_ref(), &Default::default()).unwrap();
    eprintln!(
        "read: {:?}  nodes {} edges {} strings {} ({} MB strings, {} MB graph)",
        t.elapsed(),
        g.node_count(),
        g.edge_count(),
        g.strings().len(),
        g.strings().heap_bytes() >> 20,
        g.heap_bytes() >> 20
    );
    if std::env::var_os("PARSE_ONLY").is_some() {
        return;
    }
    let last = std::cell::Cell::new(Instant::now());
    let on_phase = |p: Phase| {
        eprintln!("  {:?} after {:?}", p, last.get().elapsed());
        last.set(Instant::now());
    };
    let a = Analysis::new(
        g,
        &AnalysisOptions {
            retainer_paths: false,
            on_phase: Some(&on_phase),
        },
    );
    eprintln!("  done after {:?}", last.get().elapsed());
    let t2 = Instant::now();
    let s = a.summary();
    eprintln!(
        "summary: {:?} ({} classes); total {:?}",
        t2.elapsed(),
        s.classes.len(),
        t.elapsed()
    );
}
