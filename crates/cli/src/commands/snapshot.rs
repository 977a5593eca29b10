//! `leakhunt snapshot`: heap snapshots of a running Node process, over its inspector.
//!
//! Several snapshots to compare (`--count`) are taken in one inspector session: V8 forgets
//! its object ids when a session ends (the heap profiler is disabled then), so snapshots
//! from separate sessions number the same objects differently and `leaks` cannot follow them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use leakhunt_inspector::{Session, Target};
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
    let files = numbered_files(&args.output, args.count);
    let progress = Progress::new(true);
    let mut next = Instant::now();
    for (index, file) in files.iter().enumerate() {
        if index > 0 {
            next += args.every;
            wait_until(&mut session, next, &progress, index + 1, files.len())?;
        }
        take(&mut session, file, &progress)?;
    }
    progress.finish();
    if files.len() > 1 {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        eprintln!("compare them: leakhunt leaks {}", names.join(" "));
    }
    Ok(EXIT_CLEAN)
}

/// `app.heapsnapshot` itself for one snapshot; `app-1.heapsnapshot`, `app-2.heapsnapshot` …
/// for several.
fn numbered_files(output: &Path, count: u64) -> Vec<PathBuf> {
    if count == 1 {
        return vec![output.to_path_buf()];
    }
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = output
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1..=count)
        .map(|n| output.with_file_name(format!("{stem}-{n}{extension}")))
        .collect()
}

/// Keeps the session read (a target that ends shows at once) until `when`.
fn wait_until(
    session: &mut Session,
    when: Instant,
    progress: &Progress,
    number: usize,
    of: usize,
) -> Result<()> {
    progress.set_label(&format!("Waiting for snapshot {number}/{of}"));
    loop {
        let left = when.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        session.poll(left.min(Duration::from_millis(250)))?;
        if session.target_ended() || !session.connected() {
            bail!("the process ended before snapshot {number} of {of}");
        }
    }
}

fn take(session: &mut Session, file: &Path, progress: &Progress) -> Result<()> {
    session.collect_garbage()?;
    let name = file.display().to_string();
    let stats = session.snapshot_to_file_with_progress(file, None, &mut |p| {
        progress.set_label(&format!("Snapshot to {name}: {}", format_bytes(p.bytes)));
    })?;
    progress.warn(&format!(
        "wrote {} ({}) in {:.1} s",
        file.display(),
        format_bytes(stats.bytes),
        stats.elapsed.as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_snapshots_are_numbered_before_the_extension() {
        let one = numbered_files(Path::new("out/app.heapsnapshot"), 1);
        assert_eq!(one, [PathBuf::from("out/app.heapsnapshot")]);
        let three = numbered_files(Path::new("out/app.heapsnapshot"), 3);
        assert_eq!(
            three,
            [
                "out/app-1.heapsnapshot",
                "out/app-2.heapsnapshot",
                "out/app-3.heapsnapshot"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            numbered_files(Path::new("heap"), 2),
            [PathBuf::from("heap-1"), PathBuf::from("heap-2")]
        );
    }
}
