//! The examples at the end of each command's `--help`: the README is not installed with the
//! binary, so the common invocations travel with it.

pub const LEAKHUNT: &str = "\
Examples:
  leakhunt demo                                       # the bundled example, hunted and fixed
  leakhunt hunt --scenario scenario.toml -- node server.js
  leakhunt leaks s1.heapsnapshot s2.heapsnapshot s3.heapsnapshot
  leakhunt summary app.heapsnapshot
  leakhunt retainers app.heapsnapshot --class Session

`leakhunt COMMAND --help` shows each command's options and examples; `leakhunt man` the manual.";

pub const HUNT: &str = "\
Examples:
  # Start the service, drive a scenario in rounds, snapshot between them, diagnose
  leakhunt hunt --scenario scenario.toml -- node dist/server.js

  # Requests on the command line; a wrapper such as npm start gets the inspector via NODE_OPTIONS
  leakhunt hunt --request 'POST /api/login {\"email\":\"u{{i}}@x.com\"}' --request 'GET /api/me' -- npm start

  # CI gate: exit 1 when the heap grows more than 2 kB per iteration or a suspect is found
  leakhunt hunt -s scenario.toml --max-growth-per-iteration 2KB --json report.json -- node server.js

  # After a fix: what changed since the report of the run before
  leakhunt hunt -s scenario.toml --compare before.json -- node server.js

  # A service that already runs with its inspector on port 9229, serving on port 3000
  leakhunt hunt -s scenario.toml --inspect-port 9229 --base-url http://127.0.0.1:3000

Exit status: 0 clean, 1 leak (or growth over the gate), 2 error.";

pub const LEAKS: &str = "\
Examples:
  # Three or more snapshots of one process, each after the same amount of work
  leakhunt leaks s1.heapsnapshot s2.heapsnapshot s3.heapsnapshot

  # Only suspects growing at least 64 KiB per step, as JSON
  leakhunt leaks s*.heapsnapshot --min-growth 64KiB --json > leaks.json

Exit status: 0 clean, 1 leak, 2 error.";

pub const SUMMARY: &str = "\
Examples:
  leakhunt summary app.heapsnapshot
  leakhunt summary app.heapsnapshot.gz --sort count --top 50
  leakhunt summary app.heapsnapshot --top 0 --json > classes.json";

pub const RETAINERS: &str = "\
Examples:
  # Why is the object DevTools shows as @42331 still alive?
  leakhunt retainers app.heapsnapshot --id 42331

  # One path to each of the 5 largest instances of a class
  leakhunt retainers app.heapsnapshot --class Session --paths 5";

pub const DIFF: &str = "\
Examples:
  leakhunt diff before.heapsnapshot after.heapsnapshot
  # One class, with its largest new objects (their ids go to `retainers --id`)
  leakhunt diff before.heapsnapshot after.heapsnapshot --class RequestContext";

pub const SNAPSHOT: &str = "\
Examples:
  # A Node process started without an inspector: turned on with SIGUSR1, closed again after
  leakhunt snapshot --pid 12345 -o app.heapsnapshot

  leakhunt snapshot --inspect-port 9229 -o app.heapsnapshot

  # Three snapshots 30 s apart in one session (comparable), then the diagnosis
  leakhunt snapshot --pid 12345 --count 3 --every 30s -o app.heapsnapshot
  leakhunt leaks app-1.heapsnapshot app-2.heapsnapshot app-3.heapsnapshot";

pub const COMPARE: &str = "\
Examples:
  leakhunt hunt -s scenario.toml --json before.json -- node server.js
  # … fix the leak …
  leakhunt hunt -s scenario.toml --json after.json -- node server.js
  leakhunt compare before.json after.json";

pub const DEMO: &str = "\
Examples:
  leakhunt demo
  # Keep the example, its snapshots and reports
  leakhunt demo --keep demo-out";

pub const COMPLETIONS: &str = "\
Examples:
  leakhunt completions bash > ~/.local/share/bash-completion/completions/leakhunt
  leakhunt completions zsh > ~/.zfunc/_leakhunt     # with fpath+=~/.zfunc in ~/.zshrc
  leakhunt completions fish > ~/.config/fish/completions/leakhunt.fish";

pub const MAN: &str = "\
Examples:
  leakhunt man | man -l -
  leakhunt man > /usr/local/share/man/man1/leakhunt.1
  leakhunt man hunt > /usr/local/share/man/man1/leakhunt-hunt.1";
