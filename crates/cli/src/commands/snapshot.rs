//! `leakhunt snapshot`: one heap snapshot of a running Node process, over its inspector.

use anyhow::{bail, Result};
use leakhunt_inspector::Target;
use leakhunt_printer::format_bytes;

use crate::cli::SnapshotArgs;
use crate::progress::Progress;
use crate::EXIT_CLEAN;

pub fn run(args: &SnapshotArgs) -> Result<u8> {
    leakhunt_inspector::install_cleanup_handlers();
    let a = &args.attach;
    let endpoint = if let Some(u) = &a.inspect_url {
        Target::attach_url(u)?
    } else if let Some(p) = a.inspect_port {
        Target::attach_port(p)?
    } else if let Some(pid) = a.pid {
        Target::attach_pid(pid)?
    } else {
        bail!("say which process: --inspect-url, --inspect-port or --pid");
    };
    if let Some(notice) = &endpoint.notice {
        eprintln!("{notice}");
    }
    let mut session = endpoint.connect()?;
    session.collect_garbage()?;
    let progress = Progress::new(true);
    let name = args.output.display().to_string();
    let stats = session.snapshot_to_file_with_progress(&args.output, None, &mut |p| {
        progress.set_label(&format!("Snapshot to {name}: {}", format_bytes(p.bytes)));
    })?;
    progress.finish();
    eprintln!(
        "wrote {} ({}) in {:.1} s",
        args.output.display(),
        format_bytes(stats.bytes),
        stats.elapsed.as_secs_f64()
    );
    Ok(EXIT_CLEAN)
}
