//! The check: each mutant through every command, what went wrong tallied.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;

#[derive(Default)]
pub(super) struct Tally {
    pub(super) mutants: usize,
    pub(super) runs: usize,
    pub(super) by_verdict: BTreeMap<String, usize>,
    pub(super) by_code: BTreeMap<String, usize>,
    pub(super) max_rss_kb: i64,
    /// The run that used the most memory.
    pub(super) max_rss_run: String,
    pub(super) failures: Vec<String>,
}

/// Runs mutant `i` through every command; records what went wrong.
pub(super) fn check_mutant(l: &Ladder, i: usize, dir: &Path, tally: &Mutex<Tally>) {
    let mut rng = Rng((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let k = i % 3;
    let (bytes, what, known) = mutate(&l.texts[k], i, &mut rng);
    let verdict = known.unwrap_or_else(|| oracle(&bytes));
    let file = dir.join(format!("m{i}-s{}.heapsnapshot", k + 1));
    std::fs::write(&file, &bytes).unwrap();
    let f = file.display().to_string();
    let s = l.files.clone().map(|p| p.display().to_string());
    let mut ladder = s.clone();
    ladder[k] = f.clone();
    let id = l.id.to_string();
    let runs: Vec<Vec<String>> = vec![
        vec!["summary".into(), f.clone()],
        vec![
            "retainers".into(),
            f.clone(),
            "--class".into(),
            l.class.clone(),
        ],
        vec!["retainers".into(), f.clone(), "--id".into(), id],
        if k == 0 {
            vec!["diff".into(), f.clone(), s[2].clone()]
        } else {
            vec!["diff".into(), s[0].clone(), f.clone()]
        },
        [vec!["leaks".to_string()], ladder.to_vec()].concat(),
    ];
    let mut problems = Vec::new();
    let mut max_rss = (0, String::new());
    let mut codes = Vec::new();
    for args in &runs {
        let o = run_limited(args, None, &file);
        if o.max_rss_kb > max_rss.0 {
            max_rss = (o.max_rss_kb, format!("mutant {i} ({what}), {}", args[0]));
        }
        if std::env::var_os("LEAKHUNT_MUTANTS_VERBOSE").is_some() {
            eprintln!(
                "mutant {i} ({what}; {verdict:?}) {}: {:?} {}",
                args[0],
                o.code,
                o.stderr.trim_end()
            );
        }
        let lines: Vec<&str> = o.stderr.trim_end().lines().collect();
        let code = o
            .code
            .map_or_else(|| format!("signal {:?}", o.signal), |c| c.to_string());
        codes.push(code.clone());
        let mut fault = |why: String| problems.push(format!("{} → {why}", args[..1].join(" ")));
        if o.hung {
            fault("hung (killed after the deadline)".into());
            continue;
        }
        match o.code {
            None => fault(format!("killed by signal {:?}: {}", o.signal, o.stderr)),
            Some(101) => fault(format!("panicked: {}", o.stderr)),
            Some(c) => {
                if lines.len() > 1 || (c != 0 && c != 1 && lines.len() != 1) {
                    fault(format!("stderr is not one line: {:?}", o.stderr));
                }
                match verdict {
                    Verdict::Invalid if c != 2 => {
                        fault(format!("exit {c} on a bad snapshot"));
                    }
                    Verdict::Invalid if !lines.first().is_some_and(|l| l.contains(&f)) => {
                        fault(format!(
                            "the message does not name the file: {:?}",
                            o.stderr
                        ));
                    }
                    Verdict::Valid | Verdict::Undecided if c == 2 => {
                        // A valid file may lack the class or id asked for, or the mutant
                        // may no longer look like the same process: one line naming a file.
                        let named = lines
                            .first()
                            .is_some_and(|l| l.contains(&f) || s.iter().any(|x| l.contains(x)));
                        if verdict == Verdict::Valid && !named {
                            fault(format!("exit 2 on a valid snapshot: {:?}", o.stderr));
                        }
                    }
                    _ if c > 2 => fault(format!("exit {c}")),
                    _ => {}
                }
            }
        }
    }
    let _ = std::fs::remove_file(&file);
    let mut t = tally.lock().unwrap();
    t.mutants += 1;
    t.runs += runs.len();
    *t.by_verdict.entry(format!("{verdict:?}")).or_default() += 1;
    for c in codes {
        *t.by_code.entry(format!("{verdict:?} → {c}")).or_default() += 1;
    }
    if max_rss.0 > t.max_rss_kb {
        (t.max_rss_kb, t.max_rss_run) = max_rss;
    }
    for p in problems {
        t.failures
            .push(format!("mutant {i} ({what}; {verdict:?}): {p}"));
    }
}

/// Runs `mutants` on as many threads as the machine has cores (plus one: a run
/// spends part of its time starting up), and fails with every problem found.
pub(super) fn run_mutants(mutants: std::ops::Range<usize>) -> Tally {
    let l = source_ladder();
    let dir = tempfile::tempdir().unwrap();
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(mutants.start);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= mutants.end {
                    break;
                }
                check_mutant(&l, i, dir.path(), &tally);
            });
        }
    });
    let t = tally.into_inner().unwrap();
    eprintln!(
        "{} mutants, {} runs; verdicts {:?}; outcomes {:?}; peak RSS of any run {} KiB ({})",
        t.mutants, t.runs, t.by_verdict, t.by_code, t.max_rss_kb, t.max_rss_run
    );
    t
}

pub(super) fn assert_clean(t: &Tally) {
    let input_mb = 5; // each snapshot of the ladder is 4–5 MB
    assert!(
        t.max_rss_kb < 1024 * 60 * input_mb,
        "a run used {} KiB",
        t.max_rss_kb
    );
    assert!(
        t.failures.is_empty(),
        "{} problems:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}
