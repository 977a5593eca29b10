//! The SARIF output against the official SARIF 2.1.0 JSON schema (the copy shipped in npm
//! `@microsoft/jest-sarif`, which scripts/install-runtimes.sh installs).

use std::path::{Path, PathBuf};

use leakhunt_printer::{sarif, Findings};

use crate::fixtures::*;

/// The schema file; `LEAKHUNT_SARIF_SCHEMA` overrides. Missing is a failure, not a skip: the
/// test command installs it.
pub fn schema_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LEAKHUNT_SARIF_SCHEMA") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../.cache/runtimes/sarif-schema/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json",
    );
    assert!(
        p.exists(),
        "{} is missing: run scripts/install-runtimes.sh (scripts/test does) or set LEAKHUNT_SARIF_SCHEMA",
        p.display()
    );
    p
}

/// The schema, with its one broken regular expression mended: the `language` properties'
/// pattern `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$` has a stray `]`, which the validator
/// (rightly) refuses to compile. It is replaced by what it means, a language tag like `en`
/// or `en-US`; leakhunt's logs have no `language`, so this changes nothing they are checked
/// against.
fn schema() -> serde_json::Value {
    fn mend(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(fields) => {
                for (key, value) in fields.iter_mut() {
                    if key == "pattern" && value == BROKEN {
                        *value = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                    } else {
                        mend(value);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(mend),
            _ => {}
        }
    }
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    mend(&mut schema);
    schema
}

fn assert_valid(log: &serde_json::Value) {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

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
    // A log without `version` and with a result whose level is not a SARIF level: the check
    // above would pass everything if the schema were not really applied.
    let hunt = leaky_hunt();
    let mut log = sarif::log(&Findings::Hunt(&hunt), Path::new("/work/app"));
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!jsonschema::is_valid(&schema(), &log));
}
