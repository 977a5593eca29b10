//! `leakhunt retainers`: why an object is still alive, as paths from the GC roots.

use anyhow::{bail, Result};
use leakhunt_engine::graph::HeapGraph;
use leakhunt_engine::labels::{edge_label, node_label};
use leakhunt_engine::{Analysis, Locations, NodeIndex, RetainerPath, SourceLocation};
use leakhunt_printer::{format_bytes, Style};
use serde::Serialize;

use crate::cli::RetainersArgs;
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

#[derive(Serialize)]
pub struct Output {
    pub file: String,
    pub targets: Vec<Target>,
}

#[derive(Serialize)]
pub struct Target {
    id: u32,
    pub class: String,
    label: String,
    self_size: u64,
    retained_size: u64,
    distance: Option<u32>,
    location: Option<SourceLocation>,
    paths: Vec<Path>,
}

#[derive(Serialize)]
struct Path {
    /// References between the GC roots and the object.
    length: usize,
    steps: Vec<PathStep>,
    /// The path as lines, object first, ending at `(GC roots)`.
    lines: Vec<String>,
}

#[derive(Serialize)]
struct PathStep {
    edge: String,
    edge_type: &'static str,
    holder_id: u32,
    holder_class: String,
    holder: String,
    location: Option<SourceLocation>,
}

pub fn run(args: &RetainersArgs) -> Result<u8> {
    let a = analyse_file(&args.file, true, !args.json)?;
    let g = &a.graph;
    let targets: Vec<NodeIndex> = match (&args.id, &args.class) {
        (Some(id), _) => match g.node_by_id(*id) {
            Some(n) => vec![n],
            None => bail!(
                "{}: no object with id @{id} in this snapshot",
                args.file.display()
            ),
        },
        (None, Some(class)) => {
            let Some(c) = a.classes.find(class) else {
                bail!(
                    "{}: no class named '{class}' in this snapshot",
                    args.file.display()
                )
            };
            let mut instances: Vec<NodeIndex> = (0..g.node_count() as NodeIndex)
                .filter(|&n| a.classes.class_of(g, n) == c && g.self_size(n) > 0)
                .collect();
            instances.sort_by_key(|&n| std::cmp::Reverse(a.dominators.retained[n as usize]));
            instances.truncate(args.paths.max(1));
            instances
        }
        (None, None) => unreachable!("clap requires --id or --class"),
    };
    let locations = Locations::new(g);
    // With --class: one path to each of the largest instances; with --id: several paths.
    let per_target = if args.class.is_some() {
        1
    } else {
        args.paths.max(1)
    };
    let out = Output {
        file: args.file.display().to_string(),
        targets: targets
            .iter()
            .map(|&n| describe(&a, &locations, n, per_target))
            .collect(),
    };
    if args.json {
        print_json(&out)?;
    } else {
        print_text(&render(&out, Style::for_stdout()))?;
    }
    Ok(EXIT_CLEAN)
}

pub fn describe(a: &Analysis, locations: &Locations, n: NodeIndex, k: usize) -> Target {
    let g = &a.graph;
    let paths = a
        .retainer_paths(n, k)
        .iter()
        .map(|p| path(a, locations, p))
        .collect();
    Target {
        id: g.node_id(n),
        class: a.classes.name(a.classes.class_of(g, n)).to_string(),
        label: node_label(g, &a.classes, n),
        self_size: g.self_size(n),
        retained_size: a.dominators.retained[n as usize],
        distance: a.distances.user_distance(n),
        location: locations.of_node(g, n),
        paths,
    }
}

fn path(a: &Analysis, locations: &Locations, p: &RetainerPath) -> Path {
    let g = &a.graph;
    let mut lines = vec![format!(
        "{} @{}",
        node_label(g, &a.classes, p.target),
        g.node_id(p.target)
    )];
    let mut steps = Vec::new();
    for s in &p.steps {
        // The path ends at `(GC roots)`: the synthetic root, or V8's node of that name.
        if s.holder == HeapGraph::ROOT || g.node_name(s.holder) == "(GC roots)" {
            break;
        }
        let step = PathStep {
            edge: edge_label(g, s.edge),
            edge_type: g.edge_type(s.edge).v8_name(),
            holder_id: g.node_id(s.holder),
            holder_class: a.classes.name(a.classes.class_of(g, s.holder)).to_string(),
            holder: node_label(g, &a.classes, s.holder),
            location: locations.of_node(g, s.holder),
        };
        let at = step
            .location
            .as_ref()
            .map(|l| format!("  {}", l.position()))
            .unwrap_or_default();
        lines.push(format!(
            "{} in {} @{}{at}",
            step.edge, step.holder, step.holder_id
        ));
        steps.push(step);
    }
    lines.push("(GC roots)".to_string());
    Path {
        length: p.steps.len(),
        steps,
        lines,
    }
}

pub fn render(out: &Output, style: Style) -> String {
    let mut text = String::new();
    for t in &out.targets {
        text.push_str(&format!(
            "{} @{}  self {}, retains {}{}\n",
            style.bold(&t.label),
            t.id,
            format_bytes(t.self_size),
            style.bold(&format_bytes(t.retained_size)),
            t.distance
                .map(|d| format!(", distance {d}"))
                .unwrap_or_default()
        ));
        if let Some(l) = &t.location {
            text.push_str(&format!("  defined at {}\n", style.cyan(&l.position())));
        }
        if t.paths.is_empty() {
            text.push_str("  no path from the GC roots: only weak references or nothing hold it\n");
        }
        for (i, p) in t.paths.iter().enumerate() {
            text.push_str(&format!(
                "\n  {} ({} references)\n",
                style.dim(&format!("path {}", i + 1)),
                p.length
            ));
            for (j, line) in p.lines.iter().enumerate() {
                let arrow = if j == 0 { "  " } else { "← " };
                text.push_str(&format!("    {arrow}{line}\n"));
            }
        }
        text.push('\n');
    }
    text
}
