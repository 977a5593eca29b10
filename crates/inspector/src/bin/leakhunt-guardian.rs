//! The guardian alone, for programs that launch services through this library without
//! calling `run_guardian_if_requested` themselves (this crate's tests): point
//! `LaunchOptions::guardian` at this binary.

fn main() {
    leakhunt_inspector::run_guardian_if_requested();
    eprintln!(
        "leakhunt-guardian: run by leakhunt_inspector with {}, not by hand",
        leakhunt_inspector::GUARDIAN_ARG
    );
    std::process::exit(2);
}
