//! The guardian: a small process between leakhunt and the service it starts, so that nothing
//! the service starts outlives leakhunt, whatever happens to leakhunt (even SIGKILL).
//!
//! ```text
//! leakhunt ──socket──▶ guardian (leakhunt re-executed, own process group, child subreaper)
//!                         └─▶ service (own process group; PDEATHSIG=SIGKILL on the guardian)
//!                               └─▶ its children, grandchildren, setsid'd daemons …
//! ```
//!
//! * The guardian is the leakhunt binary itself, run again with [`GUARDIAN_ARG`]: a process
//!   that may be running threads cannot fork and go on running Rust code in the child, so the
//!   guardian is a fresh program. Its stdin is one end of a socket pair; leakhunt keeps the
//!   other end (close-on-exec, so nothing else inherits it).
//! * On Linux it is a *child subreaper* (`PR_SET_CHILD_SUBREAPER`): a process below it whose
//!   parent dies is re-parented to the guardian instead of PID 1, even after `setsid` or a
//!   double fork. So the guardian always knows the whole tree: everything below it.
//! * It starts the service in a process group of its own, reports `PID n`, forwards nothing
//!   (the service writes straight into leakhunt's output pipes), reaps every child that ends,
//!   and reports `EXIT status` (the raw wait status) when the service ends.
//! * Stop: on `T` from leakhunt, on end of file (leakhunt is gone: exited, crashed, SIGKILLed)
//!   or on SIGTERM, it sends SIGTERM to the service's group and to every process below it,
//!   waits up to the grace period, then SIGKILLs whatever is left, again and again until
//!   nothing runs below it. On `K` it SIGKILLs at once (a second Ctrl-C). Then it exits with
//!   the service's status (code, or 128 + signal).
//!
//! What it cannot catch: a process below it that makes itself a subreaper too (its orphans
//! stop at it, though they still count as below the guardian and are killed), a process handed
//! to a daemon outside the tree (`systemd-run`, `docker run`: the work happens elsewhere), and
//! the guardian itself being SIGKILLed (then the service gets SIGKILL through its parent-death
//! signal, but its children are re-parented to PID 1). Elsewhere than Linux there is no
//! subreaper: the guardian still kills the service's process group when leakhunt goes away.

#[cfg(unix)]
use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(unix)]
use std::time::Duration;

#[cfg(unix)]
mod link;
#[cfg(unix)]
mod process;

#[cfg(unix)]
pub(crate) use link::Link;

/// The hidden first argument that turns a program calling [`run_guardian_if_requested`] into
/// the guardian.
pub const GUARDIAN_ARG: &str = "--leakhunt-guardian";

/// Set by [`run_guardian_if_requested`]: this program can be re-executed as the guardian.
static CAN_GUARD: AtomicBool = AtomicBool::new(false);

/// Ask the guardian to stop the service: SIGTERM, the grace period, then SIGKILL.
pub(crate) const STOP: u8 = b'T';
/// Ask the guardian to SIGKILL everything now.
pub(crate) const KILL: u8 = b'K';

/// Makes this program able to launch services: call it first thing in `main`, before any
/// thread starts. When the program was started as a guardian (by [`crate::Target::launch`]),
/// it guards and exits here; otherwise it returns at once.
///
/// Programs that do not call it must name a guardian program in
/// [`LaunchOptions::guardian`](crate::LaunchOptions::guardian).
pub fn run_guardian_if_requested() {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().as_deref() != Some(std::ffi::OsStr::new(GUARDIAN_ARG)) {
        CAN_GUARD.store(true, Ordering::SeqCst);
        return;
    }
    #[cfg(unix)]
    std::process::exit(process::guard(args.collect()));
    #[cfg(not(unix))]
    {
        let _ = args;
        eprintln!("{GUARDIAN_ARG}: launching services is supported on Unix only");
        std::process::exit(2);
    }
}

/// The program to run as the guardian, if this one can be: itself. On Linux `/proc/self/exe`
/// names the very binary that runs, even if it was replaced or deleted since it started.
#[cfg(unix)]
pub(crate) fn this_program() -> Option<std::path::PathBuf> {
    if !CAN_GUARD.load(Ordering::SeqCst) {
        return None;
    }
    if cfg!(target_os = "linux") {
        return Some("/proc/self/exe".into());
    }
    std::env::current_exe().ok()
}

/// The arguments after [`GUARDIAN_ARG`]: `GRACE_MS -- PROGRAM ARGS…`.
#[cfg(unix)]
pub(crate) fn arguments(grace: Duration, command: &[String]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        GUARDIAN_ARG.into(),
        grace.as_millis().to_string().into(),
        "--".into(),
    ];
    args.extend(command.iter().map(OsString::from));
    args
}
