//! Checking a SARIF log against the official SARIF 2.1.0 JSON schema (the copy shipped in npm
//! `@microsoft/jest-sarif`, which scripts/install-runtimes.sh installs; missing is a failure,
//! not a skip). Shared by the printer's tests and the CLI's (included with `#[path]`).

/// The schema, with its one broken regular expression mended: the `language` properties'
/// pattern `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$` has a stray `]`, which the validator
/// (rightly) refuses to compile. It is replaced by what it means, a language tag like `en`
/// or `en-US`; leakhunt's logs have no `language`, so this changes nothing they are checked
/// against.
pub fn schema() -> serde_json::Value {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
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
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(leakhunt_testkit::runtime::sarif_schema()).unwrap(),
    )
    .unwrap();
    mend(&mut schema);
    schema
}

/// What makes `log` invalid, one line each; empty when it is valid.
pub fn errors(log: &serde_json::Value) -> Vec<String> {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panics with the reasons when `log` is not valid SARIF 2.1.0.
pub fn assert_valid(log: &serde_json::Value) {
    let errors = errors(log);
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}
