//! Never leave the launched service running.
//!
//! Every launched command runs in its own process group (its pgid is its pid),
//! so one `kill(-pgid, …)` reaches the service *and* whatever it spawned (npm →
//! sh → node, tsx → node, cluster workers…) unless something deliberately
//! calls `setsid`. Groups are registered here while a [`Launched`] lives and are
//! killed:
//!
//! * on drop / [`Launched::shutdown`] (SIGTERM, up to the grace period, SIGKILL);
//! * on SIGINT/SIGTERM to us, once [`install_cleanup_handlers`] ran: the signal
//!   handler only writes a byte to a self-pipe (async-signal-safe); a watcher
//!   thread does the killing and then exits with 128+signal (130 for Ctrl-C).
//!   A second Ctrl-C during that grace period SIGKILLs every group from the
//!   handler itself and exits at once;
//! * on panic, by the same installed panic hook (after the previous hook printed
//!   the message). It kills *every* registered group, whichever thread panicked:
//!   a panic is a bug in a CLI and ends the run. Do not install the hooks in a
//!   process that catches panics and keeps going (e.g. a test harness).
//!
//! The launched child also gets `PR_SET_PDEATHSIG(SIGTERM)`, see `launch.rs`,
//! which covers the one case nothing here can: leakhunt being SIGKILLed.
//!
//! The registry is a fixed array of atomics, not a `Mutex<Vec>`, so the signal
//! handler and a panic hook can read it without risking a deadlock.
//!
//! [`Launched`]: crate::Launched
//! [`Launched::shutdown`]: crate::Launched::shutdown

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// How many launched groups can be tracked at once; leakhunt runs one.
const SLOTS: usize = 64;
static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];

/// Grace period the signal/panic paths give groups before SIGKILL.
const HANDLER_GRACE: Duration = Duration::from_secs(2);

static INSTALL: Once = Once::new();
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
static SIGNALS_SEEN: AtomicU32 = AtomicU32::new(0);
static CLEANING: AtomicBool = AtomicBool::new(false);

/// Remembers a process group so the signal/panic paths can kill it.
pub(crate) fn register_group(pgid: i32) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
    // All slots taken: the group is still killed on drop, only not by the handlers.
}

pub(crate) fn unregister_group(pgid: i32) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

fn registered_groups() -> Vec<i32> {
    GROUPS
        .iter()
        .map(|s| s.load(Ordering::SeqCst))
        .filter(|&g| g > 0)
        .collect()
}

/// Kills every group launched by this process and still registered (SIGTERM,
/// up to 2 s, SIGKILL), and removes unfinished files (`*.partial`: snapshots, reports)
/// being written through `leakhunt_atomic_write`.
/// For callers that exit through `std::process::exit` (which skips destructors)
/// or that handle signals themselves instead of [`install_cleanup_handlers`].
pub fn kill_all_registered() {
    let groups = registered_groups();
    terminate_groups(&groups, HANDLER_GRACE);
    for g in groups {
        unregister_group(g);
    }
    // Never blocks: a panic while its list is locked must not deadlock the hook.
    leakhunt_atomic_write::remove_unfinished();
}

/// SIGTERM to each group, wait until every one is gone or `grace` passed,
/// SIGKILL the rest, then wait (briefly) for them to go.
pub(crate) fn terminate_groups(groups: &[i32], grace: Duration) {
    let mut alive: Vec<i32> = groups.iter().copied().filter(|&g| g > 0).collect();
    for &g in &alive {
        // SAFETY: plain syscall; a negative pid addresses the process group.
        unsafe { libc::kill(-g, libc::SIGTERM) };
    }
    wait_gone(&mut alive, grace);
    if alive.is_empty() {
        return;
    }
    for &g in &alive {
        // SAFETY: as above.
        unsafe { libc::kill(-g, libc::SIGKILL) };
    }
    wait_gone(&mut alive, Duration::from_secs(2));
}

fn wait_gone(alive: &mut Vec<i32>, limit: Duration) {
    let start = Instant::now();
    loop {
        alive.retain(|&g| group_alive(g));
        if alive.is_empty() || start.elapsed() >= limit {
            return;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// Whether any *running* process is left in group `pgid`.
///
/// `kill(-pgid, 0)` alone is not enough: zombies still count as members. Our
/// own child stays a zombie until we reap it (on purpose: an unreaped leader
/// keeps its pid, hence the pgid, from being reused), and orphaned grandchildren
/// stay zombies for as long as PID 1 does not reap them, which in containers can
/// be forever. So when the kernel says "someone is there", look in /proc for a
/// member that is not a zombie.
pub(crate) fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks existence/permission.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return true;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some((state, pgrp)) = proc_state_and_pgrp(pid) {
            if pgrp == pgid && state != 'Z' && state != 'X' {
                return true;
            }
        }
    }
    false
}

/// Process state letter and process group from `/proc/PID/stat`.
pub(crate) fn proc_state_and_pgrp(pid: u32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces or ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let _ppid = f.next()?;
    let pgrp = f.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether `pid` is a process that still runs (zombies count as gone).
pub fn process_running(pid: u32) -> bool {
    match proc_state_and_pgrp(pid) {
        Some((state, _)) => state != 'Z' && state != 'X',
        // No /proc entry: fall back to kill(pid, 0).
        // SAFETY: signal 0 only checks existence.
        None => unsafe { libc::kill(pid as i32, 0) == 0 },
    }
}

/// Installs, once per process, a SIGINT/SIGTERM handler and a panic hook that
/// kill every launched process group before the process goes away. Exit code
/// after a signal is 128+signal (130 for Ctrl-C, 143 for SIGTERM).
///
/// Meant for the leakhunt binary. A caller that wants to handle Ctrl-C itself
/// (e.g. to still write a report) should not install this and instead call
/// [`kill_all_registered`] from its own handling.
pub fn install_cleanup_handlers() {
    INSTALL.call_once(|| {
        install_signal_handlers();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if !CLEANING.swap(true, Ordering::SeqCst) {
                kill_all_registered();
                CLEANING.store(false, Ordering::SeqCst);
            }
        }));
    });
}

fn install_signal_handlers() {
    let mut fds = [0i32; 2];
    // SAFETY: plain syscalls on fds we own; the write end is made non-blocking
    // so the handler can never block, and both ends are close-on-exec so the
    // launched service does not inherit them.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return;
        }
        let flags = libc::fcntl(fds[1], libc::F_GETFL);
        libc::fcntl(fds[1], libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    PIPE_WRITE.store(fds[1], Ordering::SeqCst);
    let read_fd = fds[0];
    let spawned = std::thread::Builder::new()
        .name("leakhunt-signals".into())
        .spawn(move || loop {
            let mut sig = 0u8;
            // SAFETY: reading one byte into a local.
            let n = unsafe { libc::read(read_fd, (&mut sig as *mut u8).cast(), 1) };
            if n == 1 {
                CLEANING.store(true, Ordering::SeqCst);
                kill_all_registered();
                std::process::exit(128 + i32::from(sig));
            }
            if n == 0
                || (n < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR))
            {
                return;
            }
        });
    if spawned.is_err() {
        return;
    }
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installing a handler that only touches atomics and calls
        // async-signal-safe functions (write, kill, _exit).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let seen = SIGNALS_SEEN.fetch_add(1, Ordering::SeqCst);
    if seen >= 1 {
        // Second signal while the watcher is still in its grace period: the user
        // insists. SIGKILL everything and leave right now.
        for slot in &GROUPS {
            let g = slot.load(Ordering::SeqCst);
            if g > 0 {
                // SAFETY: kill and _exit are async-signal-safe.
                unsafe { libc::kill(-g, libc::SIGKILL) };
            }
        }
        // SAFETY: as above.
        unsafe { libc::_exit(128 + sig) };
    }
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    let byte = sig as u8;
    // SAFETY: write is async-signal-safe; the fd is non-blocking.
    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
}
