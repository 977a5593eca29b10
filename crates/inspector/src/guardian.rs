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

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    std::process::exit(guard(args.collect()));
}

/// The program to run as the guardian, if this one can be: itself. On Linux `/proc/self/exe`
/// names the very binary that runs, even if it was replaced or deleted since it started.
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
pub(crate) fn arguments(grace: Duration, command: &[String]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        GUARDIAN_ARG.into(),
        grace.as_millis().to_string().into(),
        "--".into(),
    ];
    args.extend(command.iter().map(OsString::from));
    args
}

// ---------------------------------------------------------------------------------------------
// The guardian process.

/// SIGTERM received: stop as if leakhunt had asked.
static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_terminate(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// Ctrl-C and a closing terminal reach leakhunt too, which decides what to do; the guardian
/// only must not die of them. A handler (not SIG_IGN) so the service starts with the default.
extern "C" fn on_ignored(_: libc::c_int) {}

fn guard(args: Vec<OsString>) -> i32 {
    let (grace, command) = match args.as_slice() {
        [grace, dashes, program, rest @ ..] if dashes == "--" => {
            let Some(ms) = grace.to_str().and_then(|s| s.parse::<u64>().ok()) else {
                eprintln!("{GUARDIAN_ARG}: bad grace period {grace:?}");
                return 2;
            };
            (Duration::from_millis(ms), (program, rest))
        }
        _ => {
            eprintln!("{GUARDIAN_ARG}: expected GRACE_MS -- PROGRAM [ARGS…]");
            return 2;
        }
    };
    if !stdin_is_socket() {
        eprintln!("{GUARDIAN_ARG}: leakhunt runs this with a socket as stdin, not by hand");
        return 2;
    }
    // SAFETY: fd 0 is the socket leakhunt gave us as stdin; we own it from here on.
    let mut control = unsafe { <UnixStream as std::os::fd::FromRawFd>::from_raw_fd(0) };
    install_handlers();
    #[cfg(target_os = "linux")]
    // SAFETY: plain prctl; failure only loses the subreaper (reported, still guards the group).
    unsafe {
        if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            let _ = control.write_all(b"NOTE cannot become a child subreaper\n");
        }
    }
    let service = match spawn_service(command.0, command.1) {
        Ok(pid) => pid,
        Err(e) => {
            let line = if e.kind() == std::io::ErrorKind::NotFound {
                "ERR notfound\n".to_string()
            } else {
                format!("ERR {}\n", e.to_string().replace('\n', " "))
            };
            let _ = control.write_all(line.as_bytes());
            return 127;
        }
    };
    let _ = control.write_all(format!("PID {service}\n").as_bytes());
    release_output();
    let status = watch(&mut control, service, grace);
    let _ = control.write_all(format!("EXIT {status}\n").as_bytes());
    mirror(status)
}

fn stdin_is_socket() -> bool {
    // SAFETY: fstat into a zeroed struct we own.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(0, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    }
}

fn install_handlers() {
    let set = |sig: libc::c_int, handler: extern "C" fn(libc::c_int)| {
        // SAFETY: the handlers only store to an atomic (async-signal-safe).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    };
    set(libc::SIGTERM, on_terminate);
    set(libc::SIGINT, on_ignored);
    set(libc::SIGHUP, on_ignored);
}

/// Starts the service in a process group of its own, stdin closed, output into our stdout
/// and stderr (leakhunt's pipes).
fn spawn_service(program: &OsString, args: &[OsString]) -> std::io::Result<u32> {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .process_group(0);
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpid is async-signal-safe; the closure only calls prctl and getppid.
        let guardian = unsafe { libc::getpid() };
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls.
        unsafe {
            cmd.pre_exec(move || {
                // If the guardian is SIGKILLed, take the service down with it.
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != guardian {
                    // Already orphaned between fork and prctl.
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    // The Child handle is not kept: every child is reaped by `reap` below.
    Ok(cmd.spawn()?.id())
}

/// Points our own stdout and stderr at /dev/null: they are leakhunt's output pipes, and
/// leakhunt's readers must see end of file once the service and its helpers are gone, not
/// when the guardian is.
fn release_output() {
    // SAFETY: plain fd syscalls on our own descriptors.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            libc::close(null);
        }
    }
}

/// Runs until told to stop (or leakhunt is gone) and nothing runs below us any more; returns
/// the service's raw wait status.
fn watch(control: &mut UnixStream, service: u32, grace: Duration) -> i32 {
    let pgid = service as i32;
    let _ = control.set_nonblocking(true);
    let mut control_open = true;
    let mut status: Option<i32> = None;
    let mut stop: Option<Stopping> = None;
    loop {
        let tick = if stop.is_some() { 20 } else { 100 };
        let mut request = None;
        if control_open {
            wait_readable(control, tick);
            let mut buf = [0u8; 16];
            match control.read(&mut buf) {
                Ok(0) => {
                    // leakhunt is gone (or closed its end): stop.
                    control_open = false;
                    request = Some(false);
                }
                Ok(n) => {
                    if buf[..n].contains(&KILL) {
                        request = Some(true);
                    } else if buf[..n].contains(&STOP) {
                        request = Some(false);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    control_open = false;
                    request = Some(false);
                }
            }
        } else {
            std::thread::sleep(Duration::from_millis(tick));
        }
        if TERMINATE.swap(false, Ordering::SeqCst) {
            request = request.or(Some(false));
        }
        if let Some(kill_now) = request {
            let s = stop.get_or_insert_with(|| Stopping::new(grace));
            s.kill_now |= kill_now;
        }
        if let Some(st) = reap(service) {
            status = Some(st);
            let _ = control.write_all(format!("EXIT {st}\n").as_bytes());
        }
        let Some(s) = stop.as_mut() else {
            continue;
        };
        // While the service is not reaped its pid is taken, so its group id cannot have been
        // reused: the group may be signalled. Past that, only the tree is.
        let group = status.is_none().then_some(pgid);
        let below = running_below();
        if status.is_some() && below.is_empty() && !group_left(pgid) {
            return status.unwrap_or(0);
        }
        if s.started.elapsed() > grace + GIVE_UP_AFTER {
            // Something survives SIGKILL (stuck in the kernel): do not hang leakhunt for it.
            return status.unwrap_or(libc::SIGKILL);
        }
        s.signal(group, &below);
    }
}

/// How long past the grace period SIGKILLs are repeated before giving up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

struct Stopping {
    started: Instant,
    grace: Duration,
    kill_now: bool,
    /// Who got SIGTERM already (each process gets it once: a second one often means "hurry").
    termed: std::collections::HashSet<u32>,
    group_termed: bool,
}

impl Stopping {
    fn new(grace: Duration) -> Stopping {
        Stopping {
            started: Instant::now(),
            grace,
            kill_now: false,
            termed: Default::default(),
            group_termed: false,
        }
    }

    fn signal(&mut self, group: Option<i32>, below: &[u32]) {
        let kill = self.kill_now || self.started.elapsed() >= self.grace;
        // SAFETY: plain kill(2) calls on our own descendants and the service's group.
        unsafe {
            if let Some(g) = group {
                if kill {
                    libc::kill(-g, libc::SIGKILL);
                } else if !self.group_termed {
                    libc::kill(-g, libc::SIGTERM);
                    self.group_termed = true;
                }
            }
            for &pid in below {
                if kill {
                    libc::kill(pid as i32, libc::SIGKILL);
                } else if self.termed.insert(pid) {
                    libc::kill(pid as i32, libc::SIGTERM);
                }
            }
        }
    }
}

/// Running processes below the guardian (Linux: the whole tree, thanks to the subreaper).
fn running_below() -> Vec<u32> {
    let me = std::process::id();
    crate::procs::descendants(me)
        .into_iter()
        .filter(|p| p.running())
        .map(|p| p.pid)
        .collect()
}

/// Without a process table (not Linux), the group is all we can see.
fn group_left(pgid: i32) -> bool {
    cfg!(not(target_os = "linux")) && crate::procs::group_alive(pgid)
}

/// Reaps every child that ended (orphans re-parented to us included); returns the service's
/// wait status if it was among them.
fn reap(service: u32) -> Option<i32> {
    let mut found = None;
    loop {
        let mut st = 0;
        // SAFETY: waitpid with a valid pointer.
        let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if pid as u32 == service {
            found = Some(st);
        }
    }
}

fn wait_readable(control: &UnixStream, timeout_ms: u64) {
    use std::os::fd::AsRawFd;
    let mut fds = libc::pollfd {
        fd: control.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd. EINTR (SIGTERM, SIGCHLD) just ends the wait early.
    unsafe { libc::poll(&mut fds, 1, timeout_ms as libc::c_int) };
}

/// The guardian's exit code for the service's wait status: its code, or 128 + its signal.
fn mirror(status: i32) -> i32 {
    let st = ExitStatus::from_raw(status);
    st.code()
        .or_else(|| st.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

// ---------------------------------------------------------------------------------------------
// leakhunt's side.

/// What the guardian told us so far.
#[derive(Debug, Default)]
pub(crate) struct Reports {
    pub pid: Option<u32>,
    /// The service's exit status, once it ended.
    pub exit: Option<ExitStatus>,
    /// The service could not be started: `notfound` or the OS error.
    pub error: Option<String>,
    /// The guardian is gone (its end of the socket closed).
    pub closed: bool,
}

/// Our end of the guardian's socket.
pub(crate) struct Link {
    stream: UnixStream,
    pending: Vec<u8>,
    pub reports: Reports,
}

impl Link {
    pub fn new(stream: UnixStream) -> Link {
        Link {
            stream,
            pending: Vec::new(),
            reports: Reports::default(),
        }
    }

    pub fn raw_fd(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.stream)
    }

    /// Reads what the guardian sent, waiting up to `wait` for something to arrive.
    pub fn read(&mut self, wait: Duration) {
        if self.reports.closed {
            return;
        }
        let _ = self
            .stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        let mut buf = [0u8; 256];
        match self.stream.read(&mut buf) {
            Ok(0) => self.reports.closed = true,
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                self.parse();
                // More may be waiting; take it without waiting again.
                self.read_ready();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => self.reports.closed = true,
        }
    }

    fn read_ready(&mut self) {
        let _ = self.stream.set_nonblocking(true);
        let mut buf = [0u8; 256];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.reports.closed = true;
                    break;
                }
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        let _ = self.stream.set_nonblocking(false);
        self.parse();
    }

    fn parse(&mut self) {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.pending[..end]).into_owned();
            self.pending.drain(..=end);
            if let Some(pid) = line.strip_prefix("PID ") {
                self.reports.pid = pid.trim().parse().ok();
            } else if let Some(st) = line.strip_prefix("EXIT ") {
                if let Ok(raw) = st.trim().parse::<i32>() {
                    self.reports.exit = Some(ExitStatus::from_raw(raw));
                }
            } else if let Some(e) = line.strip_prefix("ERR ") {
                self.reports.error = Some(e.to_string());
            }
        }
    }

    /// Sends `STOP` or `KILL`; a guardian that is gone already needs neither.
    pub fn send(&mut self, what: u8) {
        let _ = self.stream.write_all(&[what]);
    }
}
