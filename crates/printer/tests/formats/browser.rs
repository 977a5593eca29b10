//! The HTML report in a real browser: Debian's `chromium`, headless, with every host name
//! unresolvable (the page must need no network). (That the page has no script at all is
//! checked on its text in golden.rs: headless Chromium's `--dump-dom` and `--screenshot`
//! themselves stop working when scripting is turned off.) The screenshot must not be
//! blank and the rendered page must show the suspect's file:line. Without chromium the test
//! says why and passes (scripts/install-runtimes.sh installs it when it can).
//!
//! `LEAKHUNT_UPDATE_SCREENSHOT=1` also copies the screenshot to docs/html-report.png, the
//! one the README shows.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use leakhunt_printer::{html, Findings};

use crate::fixtures::*;

/// A browser start on a loaded machine can take a while; a hung one must not hang the suite.
const DEADLINE: Duration = Duration::from_secs(120);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LEAKHUNT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(leakhunt_testkit::runtime::on_path)
}

/// `chromium --headless` on `page` with `mode` (`--dump-dom`, `--screenshot=…`), its own
/// profile folder under `dir`.
fn start(chromium: &Path, dir: &Path, name: &str, mode: &str, page: &Path) -> Child {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1000,1400",
    ])
    .arg(format!(
        "--user-data-dir={}",
        dir.join(format!("profile-{name}")).display()
    ))
    .arg(mode)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // Chromium's sandbox refuses to run as root (CI runs as root) and needs namespaces a
    // container may not give; the page is our own, so it is not needed.
    cmd.arg("--no-sandbox");
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()))
}

/// Waits for the browser to exit, killing it after [`DEADLINE`].
fn finish(child: Child, what: &str) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let start = Instant::now();
    match rx.recv_timeout(DEADLINE) {
        Ok(out) => {
            let out = out.unwrap();
            assert!(
                out.status.success(),
                "chromium {what} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            out
        }
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("chromium {what} did not finish in {:?}", start.elapsed());
        }
    }
}

/// Distinct colours in a PNG: a blank page has one, a rendered report hundreds.
fn distinct_colours(png_file: &Path) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_file).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let mut colours: Vec<&[u8]> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|px| &px[..channels.min(3)])
        .collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

#[test]
fn chromium_renders_the_html_report() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: no chromium on PATH (or LEAKHUNT_CHROMIUM); scripts/install-runtimes.sh \
             installs Debian's when run as root"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let hunt = leaky_hunt();
    std::fs::write(&page, html::render(&Findings::Hunt(&hunt), &app_dir())).unwrap();
    let shot = dir.path().join("report.png");
    // Both at once: two browser starts are most of this test's time.
    let dom = start(&chromium, dir.path(), "dom", "--dump-dom", &page);
    let screenshot = start(
        &chromium,
        dir.path(),
        "shot",
        &format!("--screenshot={}", shot.display()),
        &page,
    );
    let dom = String::from_utf8(finish(dom, "--dump-dom").stdout).unwrap();
    finish(screenshot, "--screenshot");

    assert!(
        dom.contains("src/server.js:11:7"),
        "the rendered page does not show the suspect's file:line"
    );
    assert!(dom.contains("bus.on(&#39;message&#39;") || dom.contains("bus.on('message'"));
    let colours = distinct_colours(&shot);
    assert!(
        colours >= 64,
        "the screenshot looks blank: {colours} colours"
    );

    if std::env::var_os("LEAKHUNT_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::copy(&shot, docs.join("html-report.png")).unwrap();
    }
}
