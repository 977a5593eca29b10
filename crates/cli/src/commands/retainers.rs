//! `leakhunt retainers`: why an object is still alive, as paths from the GC roots.

use anyhow::{bail, Result};
use leakhunt_diagnosis::Locator;
use leakhunt_engine::NodeIndex;
use leakhunt_findings::{RetainersReport, SCHEMA_VERSION};
use leakhunt_printer::{terminal, Style};

use crate::cli::RetainersArgs;
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

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
    // Source positions as `leaks` shows them: through the scripts' source maps, relative to
    // the current directory.
    let locator = Locator::new(&a, Default::default(), None);
    // With --class: one path to each of the largest instances; with --id: several paths.
    let per_target = if args.class.is_some() {
        1
    } else {
        args.paths.max(1)
    };
    let report = RetainersReport {
        schema_version: SCHEMA_VERSION,
        file: args.file.display().to_string(),
        targets: targets
            .iter()
            .map(|&n| locator.retained_object(n, per_target))
            .collect(),
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&terminal::retainers(&report, Style::for_stdout()))?;
    }
    Ok(EXIT_CLEAN)
}
