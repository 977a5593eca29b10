//! The SARIF output against the official SARIF 2.1.0 JSON schema.

use std::path::Path;

use leakhunt_printer::{sarif, Findings};

use crate::fixtures::*;
use crate::schema::{assert_valid, errors};

#[test]
fn sarif_is_valid_for_a_leak_a_clean_ladder_and_a_comparison() {
    let cwd = Path::new("/work/app");
    let (hunt, clean) = (leaky_hunt(), clean_ladder());
    let (before, after, comparison) = (leaky_hunt(), fixed_hunt(), comparison());
    for f in [
        Findings::Hunt(&hunt),
        Findings::Leaks(&clean),
        Findings::Compared {
            before: &before,
            after: &after,
            comparison: &comparison,
        },
    ] {
        assert_valid(&sarif::log(&f, cwd));
    }
}

#[test]
fn the_schema_check_catches_a_broken_log() {
    // A result whose level is not a SARIF level: the check above would pass everything if
    // the schema were not really applied.
    let hunt = leaky_hunt();
    let mut log = sarif::log(&Findings::Hunt(&hunt), Path::new("/work/app"));
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!errors(&log).is_empty());
}
