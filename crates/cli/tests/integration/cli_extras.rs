//! What a command-line user expects besides the commands: shell completions, a manual page,
//! examples in `--help`, and a hunt that says how far it got in a log.

use crate::support::*;

const COMMANDS: [&str; 8] = [
    "summary",
    "retainers",
    "diff",
    "leaks",
    "hunt",
    "snapshot",
    "compare",
    "demo",
];

fn stdout_of(args: &[&str]) -> String {
    let out = leakhunt(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completions_offer_every_command_and_their_flags() {
    let script = stdout_of(&["completions", "bash"]);
    assert!(script.contains("complete -F _leakhunt"), "{script}");
    for name in COMMANDS {
        assert!(script.contains(name), "{name} missing");
    }
    assert!(script.contains("--max-growth-per-iteration"));
    // The other shells clap_complete knows come out too.
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            stdout_of(&["completions", shell]).contains("hunt"),
            "{shell}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = leakhunt(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bash"), "names the shells it knows: {err}");
}

#[test]
fn the_man_page_lists_the_commands_and_each_has_its_own() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH leakhunt 1"),
        "{page}"
    );
    assert!(page.contains(".TH leakhunt 1"), "{page}");
    for name in COMMANDS {
        assert!(
            page.contains(&format!("leakhunt\\-{name}(1)")),
            "{name}: {page}"
        );
    }
    let hunt = stdout_of(&["man", "hunt"]);
    assert!(hunt.contains(".TH leakhunt-hunt 1"), "{hunt}");
    assert!(hunt.contains("max\\-growth\\-per\\-iteration"), "{hunt}");
    // The examples keep their lines (no-fill), not run into one paragraph.
    let examples = &hunt[hunt.find(".SH EXAMPLES").expect("an EXAMPLES section")..];
    assert!(examples.contains(".nf"), "{examples}");
    assert!(
        examples.contains("leakhunt hunt \\-\\-scenario scenario.toml"),
        "{examples}"
    );

    let out = leakhunt(&["man", "hnut"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hnut") && err.contains("hunt"), "{err}");
}

#[test]
fn every_command_has_examples_in_its_help() {
    for name in COMMANDS.iter().chain(&["completions", "man"]) {
        for flag in ["-h", "--help"] {
            let help = stdout_of(&[name, flag]);
            let examples = &help[help
                .find("Examples:")
                .unwrap_or_else(|| panic!("{name} {flag}: no examples:\n{help}"))..];
            assert!(
                examples.contains(&format!("leakhunt {name}")),
                "{name} {flag}: the examples use the command:\n{examples}"
            );
        }
    }
    assert!(stdout_of(&["--help"]).contains("Examples:"));
}

/// In a CI log (stderr a pipe, as here) a hunt prints a plain line as each phase starts or
/// ends, so a long one is not silent until the end.
#[test]
fn a_hunt_logs_one_line_per_phase_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let service = fixture("services").join("clean-service.js");
    let out = leakhunt(&[
        "hunt",
        "--request",
        "GET /items/{{i}}",
        "--iterations",
        "20",
        "--out",
        path_str(&dir.path().join("out")),
        "--",
        "node",
        path_str(&service),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 20 iterations are too few for a verdict: 0 or 1 both do.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let expected = [
        "serving at",
        "Warm-up: 20 iterations",
        "Warm-up done: 20 requests",
        "Snapshot 1 taken:",
        "Round 1/2: 20 iterations",
        "Round 1 done: 20 requests",
        "Snapshot 2 taken:",
        "Round 2/2: 20 iterations",
        "Round 2 done: 20 requests",
        "Snapshot 3 taken:",
        "Finding what grows",
    ];
    let mut lines = stderr.lines();
    for phase in expected {
        assert!(
            lines.any(|l| l.contains(phase)),
            "no line with {phase:?} in order in:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains('\r') && !stderr.contains('\x1b'),
        "plain lines, no status line drawing: {stderr:?}"
    );
    // Quick reads of one file stay silent in a log.
    let out = leakhunt(&["summary", path_str(&dir.path().join("out/s1.heapsnapshot"))]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
