//! `leakhunt demo`: the bundled example, end to end, with nothing to set up but `node`.
//!
//! The example service (examples/realtime-dashboard: the walkthrough's leak, and its fix) is
//! compiled into the binary, so this works after `cargo install` and outside the repository.
//! It hunts the leaky service, then the fixed one, and shows what the fix changed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use leakhunt_hunt::{compare, hunt, HuntConfig, TargetSpec};
use leakhunt_load::Scenario;
use leakhunt_printer::{terminal, Style};

use crate::cli::DemoArgs;
use crate::commands::hunt as hunt_cmd;
use crate::output::print_text;
use crate::progress::Progress;
use crate::EXIT_CLEAN;

/// The example's files, as they are in examples/realtime-dashboard.
const FILES: [(&str, &str); 9] = [
    (
        "README.md",
        include_str!("../../../../examples/realtime-dashboard/README.md"),
    ),
    (
        "scenario.toml",
        include_str!("../../../../examples/realtime-dashboard/scenario.toml"),
    ),
    (
        "shared/app.js",
        include_str!("../../../../examples/realtime-dashboard/shared/app.js"),
    ),
    (
        "shared/query-cache.js",
        include_str!("../../../../examples/realtime-dashboard/shared/query-cache.js"),
    ),
    (
        "shared/realtime-socket.js",
        include_str!("../../../../examples/realtime-dashboard/shared/realtime-socket.js"),
    ),
    (
        "leaky/server.js",
        include_str!("../../../../examples/realtime-dashboard/leaky/server.js"),
    ),
    (
        "leaky/realtime.js",
        include_str!("../../../../examples/realtime-dashboard/leaky/realtime.js"),
    ),
    (
        "fixed/server.js",
        include_str!("../../../../examples/realtime-dashboard/fixed/server.js"),
    ),
    (
        "fixed/realtime.js",
        include_str!("../../../../examples/realtime-dashboard/fixed/realtime.js"),
    ),
];

fn write_example(dir: &Path) -> Result<()> {
    for (name, text) in FILES {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap())
            .with_context(|| format!("cannot create {}", path.parent().unwrap().display()))?;
        leakhunt_atomic_write::write(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

pub fn run(args: &DemoArgs) -> Result<u8> {
    leakhunt_inspector::install_cleanup_handlers();
    let style = Style::for_stdout();
    let temp;
    let dir: PathBuf = match &args.keep {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("leakhunt-demo-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    write_example(&dir)?;
    let scenario = Scenario::from_file(dir.join("scenario.toml"))?;
    print_text(&format!(
        "{} the bundled example, a dashboard service where login subscribes the user to live\n\
         notifications and logout forgets to unsubscribe (the walkthrough's bug). leakhunt starts it,\n\
         drives {} users per round through login → dashboard → logout, snapshots the heap after\n\
         each round and explains what grows. Then the same for the fixed service.\n\n",
        style.bold("leakhunt demo:"),
        scenario.iterations
    ))?;
    let mut reports = Vec::new();
    for variant in ["leaky", "fixed"] {
        let mut config = HuntConfig::new(
            TargetSpec::Launch {
                command: vec!["node".into(), format!("{variant}/server.js")],
                cwd: Some(dir.clone()),
            },
            scenario.clone(),
            dir.join(".leakhunt").join(variant),
        );
        config.scenario_source = "scenario.toml".into();
        let progress = Progress::new(true);
        let mut report = hunt(&config, &hunt_cmd::Display::new(&progress, style)).map_err(|e| {
            if matches!(&e, leakhunt_hunt::HuntError::Inspector(leakhunt_inspector::InspectorError::CommandNotFound { .. })) {
                anyhow::anyhow!("the demo runs the example with `node`, which is not on PATH (install Node.js 18 or newer)")
            } else {
                e.into()
            }
        })?;
        progress.finish();
        print_text(&format!(
            "{}\n",
            style.bold(&format!("── {variant} service ──"))
        ))?;
        // Without --keep the folder is removed at the end: not worth naming.
        if args.keep.is_none() {
            report.out_dir = None;
        }
        print_text(&terminal::hunt(&report, style))?;
        print_text("\n")?;
        reports.push(report);
    }
    print_text(&terminal::comparison(
        &compare(&reports[0], &reports[1]),
        style,
    ))?;
    if args.keep.is_some() {
        print_text(&format!(
            "\nThe example and its snapshots are in {}\n",
            dir.display()
        ))?;
    }
    Ok(EXIT_CLEAN)
}
