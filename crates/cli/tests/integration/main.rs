//! Integration tests: the real `leakhunt` binary against snapshots written by real Node and
//! Bun processes. One test binary, topic modules.

mod support;

mod bad_input;
mod churn;
mod cli_extras;
mod diff;
mod errors;
mod faults;
mod fuzz_regressions;
mod hunt;
mod layout;
mod leaks;
mod libs;
#[cfg(unix)] // runs the binary under a memory limit (ulimit) and watches it in /proc
mod mutations;
mod native_memory;
mod output_files;
mod pipes;
mod report_files;
mod retainers;
mod runtimes;
mod shapes;
mod snapshot;
mod stacks;
mod summary;
mod tanstack;
mod test_script;
mod trial_shapes;
