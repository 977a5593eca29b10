//! README's crate graph is the code's: each crate's leakhunt dependencies as its Cargo.toml
//! lists them (dev-dependencies aside).

use std::collections::BTreeMap;
use std::path::Path;

/// `crate → deps` from the README's crate-graph block.
fn readme_graph(readme: &str) -> BTreeMap<String, Vec<String>> {
    let start = readme
        .find("How the crates use each other")
        .expect("README has the crate graph");
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    block
        .lines()
        .map(|l| {
            let (name, deps) = l.split_once('→').expect("a `crate → deps` line");
            let mut deps: Vec<String> = deps.split_whitespace().map(str::to_owned).collect();
            deps.sort();
            (name.trim().to_owned(), deps)
        })
        .collect()
}

/// `crate → deps` from crates/*/Cargo.toml's `[dependencies]` and target-specific
/// dependency tables.
fn cargo_graph(crates: &Path) -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(crates).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(toml) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let mut deps = Vec::new();
        let mut in_deps = false;
        for line in toml.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_deps = line == "[dependencies]"
                    || (line.starts_with("[target.") && line.ends_with(".dependencies]"));
            } else if in_deps {
                if let Some(dep) = line.strip_prefix("leakhunt-") {
                    let name = dep.split([' ', '=', '.']).next().unwrap();
                    deps.push(name.to_owned());
                }
            }
        }
        deps.sort();
        deps.dedup();
        graph.insert(
            dir.file_name().unwrap().to_string_lossy().into_owned(),
            deps,
        );
    }
    graph
}

#[test]
fn the_readme_crate_graph_matches_the_cargo_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert_eq!(readme_graph(&readme), cargo_graph(&root.join("crates")));
}
