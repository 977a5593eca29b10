//! Never leave anything behind: no service running, no inspector open, no `.partial` file.
//!
//! Every launched command runs under a guardian process (see `guardian.rs`) that stops the
//! command and everything below it when asked, or when leakhunt goes away in any way (its
//! end of the guardian's socket closes, even on SIGKILL). Launches are registered here while a
//! [`Launched`] lives, as are the inspectors leakhunt opened with SIGUSR1 (see `attach.rs`),
//! and they are stopped and closed:
//!
//! * on drop / [`Launched::shutdown`] (the guardian: SIGTERM, up to the grace period,
//!   SIGKILL), and when the last endpoint or session of an opened inspector goes;
//! * on SIGINT/SIGTERM to us, once [`install_cleanup_handlers`] ran: `signal-hook` hands the
//!   signal to a watcher thread, which asks every guardian to stop, waits until they are done
//!   (not a moment longer), closes the opened inspectors, and exits with 128+signal (130 for
//!   Ctrl-C). A second Ctrl-C meanwhile tells every guardian to SIGKILL everything, from the
//!   signal handler itself (one byte written to each guardian's socket), and exits at once;
//! * on panic, by the same installed panic hook (after the previous hook printed the
//!   message). It stops *every* registered launch, whichever thread panicked: a panic is a bug
//!   in a CLI and ends the run. Do not install the hooks in a process that catches panics
//!   and keeps going (e.g. a test harness).
//!
//! The launch registry is a fixed array of atomics, not a `Mutex<Vec>`, so the signal handler
//! and a panic hook can read it without risking a deadlock.
//!
//! [`Launched`]: crate::Launched
//! [`Launched::shutdown`]: crate::Launched::shutdown

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::guardian;
use crate::procs;

/// How many launches can be tracked at once; leakhunt runs one.
const SLOTS: usize = 64;

/// One launch: its guardian (0 = free slot, -1 = being filled in or emptied), the fd of our
/// end of the guardian's socket, and the grace period the guardian gives before SIGKILL.
struct Slot {
    guardian: AtomicI32,
    control: AtomicI32,
    grace_ms: AtomicU32,
}

static LAUNCHES: [Slot; SLOTS] = [const {
    Slot {
        guardian: AtomicI32::new(0),
        control: AtomicI32::new(-1),
        grace_ms: AtomicU32::new(0),
    }
}; SLOTS];

/// Inspectors leakhunt opened (pid, WebSocket URL, address), to close on Ctrl-C or panic.
static OPENED: Mutex<Vec<(u32, String, SocketAddr)>> = Mutex::new(Vec::new());

static INSTALL: Once = Once::new();
/// The signal watcher runs (so a signal seen will end the process).
static WATCHING: AtomicBool = AtomicBool::new(false);
static SIGNALS_SEEN: AtomicU32 = AtomicU32::new(0);
static CLEANING: AtomicBool = AtomicBool::new(false);

/// Remembers a launch so the signal and panic paths can stop it.
pub(crate) fn register_launch(guardian: u32, control_fd: i32, grace: Duration) {
    for slot in &LAUNCHES {
        if slot
            .guardian
            .compare_exchange(0, -1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            slot.control.store(control_fd, Ordering::SeqCst);
            slot.grace_ms.store(
                grace.as_millis().min(u32::MAX as u128) as u32,
                Ordering::SeqCst,
            );
            slot.guardian.store(guardian as i32, Ordering::SeqCst);
            return;
        }
    }
    // All slots taken: the launch is still stopped on drop (and by its guardian when we
    // exit), only not by the handlers.
}

/// Forgets a launch; call before the socket's fd is closed (the handler writes to it).
pub(crate) fn unregister_launch(guardian: u32) {
    for slot in &LAUNCHES {
        if slot
            .guardian
            .compare_exchange(guardian as i32, -1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            slot.control.store(-1, Ordering::SeqCst);
            slot.guardian.store(0, Ordering::SeqCst);
        }
    }
}

/// (guardian pid, control fd, grace) of every registered launch.
fn registered_launches() -> Vec<(u32, i32, Duration)> {
    LAUNCHES
        .iter()
        .filter_map(|s| {
            let g = s.guardian.load(Ordering::SeqCst);
            (g > 0).then(|| {
                (
                    g as u32,
                    s.control.load(Ordering::SeqCst),
                    Duration::from_millis(u64::from(s.grace_ms.load(Ordering::SeqCst))),
                )
            })
        })
        .collect()
}

pub(crate) fn register_opened(pid: u32, ws_url: &str, addr: SocketAddr) {
    if let Ok(mut v) = OPENED.lock() {
        v.push((pid, ws_url.to_string(), addr));
    }
}

pub(crate) fn unregister_opened(pid: u32) {
    if let Ok(mut v) = OPENED.lock() {
        v.retain(|(p, _, _)| *p != pid);
    }
}

/// Stops every launched service still registered (and everything it started: SIGTERM, the
/// grace period, SIGKILL), closes the inspectors leakhunt opened, and removes unfinished
/// files (`*.partial`: snapshots, reports) being written through `leakhunt_atomic_write`. For callers that exit through `std::process::exit` (which skips
/// destructors) or that handle signals themselves instead of [`install_cleanup_handlers`].
pub fn kill_all_registered() {
    stop_launches(false);
    close_opened_inspectors();
    // Never blocks: a panic while its list is locked must not deadlock the hook.
    leakhunt_atomic_write::remove_unfinished();
}

/// Asks every guardian to stop and waits until they are all gone: as long as the slowest
/// needs (grace period included), not longer. `tell` prints, once the wait is noticeable, how
/// to cut it short.
fn stop_launches(tell: bool) {
    let launches = registered_launches();
    if launches.is_empty() {
        return;
    }
    for &(_, fd, _) in &launches {
        send(fd, guardian::STOP);
    }
    let grace = launches.iter().map(|l| l.2).max().unwrap_or_default();
    let start = Instant::now();
    let mut told = false;
    let mut alive: Vec<(u32, i32, Duration)> = launches;
    loop {
        alive.retain(|&(g, _, _)| procs::running(g));
        if alive.is_empty() {
            break;
        }
        if tell && !told && start.elapsed() > Duration::from_millis(300) {
            eprintln!("leakhunt: stopping the service (Ctrl-C again kills it at once)");
            told = true;
        }
        if start.elapsed() > grace + Duration::from_secs(3) {
            // The guardian escalates by itself; one that does not is killed, and its
            // service with it (parent-death signal).
            for &(g, fd, _) in &alive {
                send(fd, guardian::KILL);
                #[cfg(unix)]
                // SAFETY: plain kill(2) on our own child process.
                unsafe {
                    libc::kill(g as i32, libc::SIGKILL)
                };
                #[cfg(not(unix))]
                let _ = g;
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for (g, _, _) in registered_launches() {
        unregister_launch(g);
    }
}

#[cfg(not(unix))]
fn send(_fd: i32, _byte: u8) {}

#[cfg(unix)]
fn send(fd: i32, byte: u8) {
    if fd >= 0 {
        // SAFETY: write(2) of one byte from a local; a closed fd just fails.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

fn close_opened_inspectors() {
    let opened: Vec<(u32, String, SocketAddr)> = match OPENED.try_lock() {
        Ok(mut v) => v.drain(..).collect(),
        Err(_) => return,
    };
    for (pid, ws_url, addr) in opened {
        if let Err(e) = crate::attach::close_inspector(pid, &ws_url, addr) {
            eprintln!("leakhunt: warning: {e}");
        }
    }
}

/// If a SIGINT/SIGTERM is being handled (see [`install_cleanup_handlers`]), waits for its
/// cleanup to end the process with 128+signal, and never returns; otherwise returns at once.
///
/// Call it before exiting for any other reason: the cleanup itself makes the work fail (the
/// service it stops goes away), and that error must not win the race with exit code 2.
pub fn await_interrupt() {
    if SIGNALS_SEEN.load(Ordering::SeqCst) == 0 || !WATCHING.load(Ordering::SeqCst) {
        return;
    }
    loop {
        std::thread::park();
    }
}

/// Whether `pid` is a process that still runs (zombies count as gone).
pub fn process_running(pid: u32) -> bool {
    procs::running(pid)
}

/// Installs, once per process, a SIGINT/SIGTERM handler and a panic hook that stop every
/// launched service and close every inspector leakhunt opened before the process goes away.
/// Exit code after a signal is 128+signal (130 for Ctrl-C, 143 for SIGTERM).
///
/// Meant for the leakhunt binary. A caller that wants to handle Ctrl-C itself (e.g. to still
/// write a report) should not install this and instead call [`kill_all_registered`] from its
/// own handling.
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

/// Elsewhere than Unix nothing is launched (see `launch`) nor opened by PID, so there is
/// nothing for a handler to stop: Ctrl-C keeps its default.
#[cfg(not(unix))]
fn install_signal_handlers() {}

#[cfg(unix)]
fn install_signal_handlers() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM] {
        // SAFETY: the action only touches atomics and calls write(2) and _exit, all
        // async-signal-safe; it allocates nothing and takes no lock.
        let registered =
            unsafe { signal_hook::low_level::register(sig, move || count_signal(sig)) };
        if registered.is_err() {
            return;
        }
    }
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("leakhunt-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                CLEANING.store(true, Ordering::SeqCst);
                stop_launches(true);
                kill_all_registered();
                std::process::exit(128 + sig);
            }
        });
    if spawned.is_ok() {
        WATCHING.store(true, Ordering::SeqCst);
    }
}

/// Runs inside the signal handler, before the watcher thread hears of the signal.
#[cfg(unix)]
fn count_signal(sig: libc::c_int) {
    let seen = SIGNALS_SEEN.fetch_add(1, Ordering::SeqCst);
    if seen >= 1 {
        // Second signal while the watcher is still stopping things: the user insists. Every
        // guardian SIGKILLs its whole tree on this byte (the end of file our exit gives it
        // would only ask for the graceful stop); leave right now.
        for slot in &LAUNCHES {
            if slot.guardian.load(Ordering::SeqCst) > 0 {
                send(slot.control.load(Ordering::SeqCst), guardian::KILL);
            }
        }
        signal_hook::low_level::exit(128 + sig);
    }
}
