//! Progress on stderr for long work, when the output is for a person (not `--json`). On a
//! terminal, a status line redrawn from a background thread so the hot loops never check a
//! clock. Elsewhere (a CI log), long multi-phase work (`hunt`) prints one plain line per phase,
//! so the log shows how far it got; quick reads stay silent there.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use leakhunt_printer::format_bytes;

/// A status line: a label, and optionally bytes done out of a known total.
pub struct Progress {
    state: Option<Arc<State>>,
    thread: Option<JoinHandle<()>>,
    /// Not a terminal: [`Progress::phase`] and [`Progress::note`] print plain lines.
    lines: bool,
}

struct State {
    label: Mutex<String>,
    done: Arc<AtomicU64>,
    total: AtomicU64,
    stop: AtomicBool,
}

impl Progress {
    /// A progress line if `enabled` and stderr is a terminal; otherwise a silent stand-in.
    pub fn new(enabled: bool) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress {
                state: None,
                thread: None,
                lines: false,
            };
        }
        let state = Arc::new(State {
            label: Mutex::new(String::new()),
            done: Arc::new(AtomicU64::new(0)),
            total: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let s = state.clone();
        let thread = std::thread::spawn(move || draw_loop(&s));
        Progress {
            state: Some(state),
            thread: Some(thread),
            lines: false,
        }
    }

    /// For long work in phases: the status line on a terminal, and where stderr is not one,
    /// a plain line per [`Progress::phase`] and [`Progress::note`].
    pub fn with_phase_lines(enabled: bool) -> Progress {
        let mut p = Progress::new(enabled);
        p.lines = enabled && p.state.is_none();
        p
    }

    /// A new phase begins: the status line's label, or a line of its own in a log.
    pub fn phase(&self, label: &str) {
        if self.lines {
            eprintln!("{label}");
        }
        self.set_label(label);
    }

    /// Something done, worth a line in a log (a terminal shows the result at the end).
    pub fn note(&self, line: &str) {
        if self.lines {
            eprintln!("{line}");
        }
    }

    /// A line the user must see, terminal or log: printed above the status line (which
    /// the drawing thread redraws on its next tick).
    pub fn warn(&self, line: &str) {
        match &self.state {
            Some(s) => {
                // Under the label's lock: the drawing thread takes it before it draws, so
                // the line is not written into the middle of a redraw.
                let _guard = s.label.lock().unwrap();
                eprint!("\r\x1b[2K{line}\n");
                let _ = std::io::stderr().flush();
            }
            None => eprintln!("{line}"),
        }
    }

    /// Shows `label`; when `total` > 0 the returned counter drives a percentage.
    pub fn start(&self, label: &str, total: u64) -> Arc<AtomicU64> {
        match &self.state {
            Some(s) => {
                *s.label.lock().unwrap() = label.to_string();
                s.done.store(0, Ordering::Relaxed);
                s.total.store(total, Ordering::Relaxed);
                s.done.clone()
            }
            None => Arc::new(AtomicU64::new(0)),
        }
    }

    /// Shows `label` with a running time instead of a percentage.
    pub fn set_label(&self, label: &str) {
        if let Some(s) = &self.state {
            *s.label.lock().unwrap() = label.to_string();
            s.total.store(0, Ordering::Relaxed);
        }
    }

    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(s) = self.state.take() {
            s.stop.store(true, Ordering::Relaxed);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn draw_loop(s: &State) {
    let started = Instant::now();
    // Quick jobs finish without ever drawing.
    let mut next_draw = started + Duration::from_millis(300);
    while !s.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if Instant::now() < next_draw {
            continue;
        }
        next_draw = Instant::now() + Duration::from_millis(100);
        let label = s.label.lock().unwrap();
        let done = s.done.load(Ordering::Relaxed);
        let total = s.total.load(Ordering::Relaxed);
        let line = if total > 0 {
            let pct = (done as f64 / total as f64 * 100.0).min(100.0);
            let width = 24;
            let filled = (pct / 100.0 * width as f64) as usize;
            format!(
                "{label} [{}{}] {pct:>3.0}% {} / {}",
                "#".repeat(filled),
                " ".repeat(width - filled),
                format_bytes(done),
                format_bytes(total)
            )
        } else {
            format!("{label} … {:.1}s", started.elapsed().as_secs_f64())
        };
        eprint!("\r\x1b[2K{line}");
        let _ = std::io::stderr().flush();
        drop(label);
    }
}
