//! `leakhunt demo`: the bundled example, end to end, with nothing to set up but `node`.
//!
//! The example program is compiled into the binary, so this works after `cargo install` and
//! outside the repository.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use leakhunt_engine::{Locations, NodeIndex};
use leakhunt_report::Style;

use crate::cli::DemoArgs;
use crate::commands::{retainers, summary};
use crate::load::analyse_file;
use crate::output::print_text;
use crate::EXIT_CLEAN;

const SESSIONS_JS: &str = include_str!("../../../../examples/first-look/sessions.js");

pub fn run(args: &DemoArgs) -> Result<u8> {
    let style = Style::for_stdout();
    let temp;
    let dir: PathBuf = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("leakhunt-demo-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let script = dir.join("sessions.js");
    std::fs::write(&script, SESSIONS_JS)?;
    let snapshot = dir.join("sessions.heapsnapshot");
    print_text(&format!(
        "{} the bundled example: 1000 users log in and out of a service whose logout forgets\n\
         to unsubscribe a handler (examples/first-look/sessions.js). Taking a heap snapshot…\n\n",
        style.bold("leakhunt demo:")
    ))?;
    let status = Command::new("node")
        .arg(&script)
        .arg(&snapshot)
        .current_dir(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => bail!("node {} failed ({s})", script.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("the demo runs the example with `node`, which is not on PATH (install Node.js 18 or newer)")
        }
        Err(e) => return Err(e).context("cannot start node"),
    }

    let a = analyse_file(&snapshot, true, true)?;
    let mut s = a.summary();
    s.classes.truncate(12);
    print_text(&summary::render(&snapshot.display().to_string(), &s, style))?;

    // The class to explain: the biggest one defined in the example itself.
    let locations = Locations::new(&a.graph);
    let g = &a.graph;
    let suspect = (0..g.node_count() as NodeIndex)
        .filter(|&n| {
            locations
                .of_node(g, n)
                .is_some_and(|l| l.file.ends_with("sessions.js"))
                && g.self_size(n) > 0
                && a.graph.node_type(n) == leakhunt_engine::NodeType::Object
        })
        .max_by_key(|&n| a.dominators.retained[n as usize]);
    if let Some(n) = suspect {
        let target = retainers::describe(&a, &locations, n, 1);
        print_text(&format!(
            "\nWhy is a {} still alive after logout? Its shortest retainer path:\n\n",
            style.bold(&target.class)
        ))?;
        let out = retainers::Output {
            file: snapshot.display().to_string(),
            targets: vec![target],
        };
        print_text(&retainers::render(&out, style))?;
        print_text(
            "Each session is held by a `handleNotification` closure in the bus's listener list:\n\
             the listener added at login is never removed. Fix: keep the handler and call\n\
             bus.off('notification', handler) on logout.\n",
        )?;
    }
    // The demo succeeded when it found and explained the leak it was built around.
    Ok(EXIT_CLEAN)
}
